"""`GET /api/v1/areas` and `GET /api/v1/areas/at` (DESIGN.md shapes)."""

from __future__ import annotations


def test_list_areas_by_level_and_parent(client, login_as, small_county):
    login_as("member")
    body = client.get("/api/v1/areas?level=township").get_json()
    assert body == {
        "items": [
            {"code": "512099001000", "name": "东风镇", "level": "township", "kind": "town",
             "parent_code": "512099000000", "has_boundary": True},
            {"code": "512099002000", "name": "西岭乡", "level": "township", "kind": "xiang",
             "parent_code": "512099000000", "has_boundary": True},
        ],
        "next": None,
    }  # fmt: skip
    body = client.get("/api/v1/areas?parent=512099002000").get_json()
    assert [(i["code"], i["kind"], i["has_boundary"]) for i in body["items"]] == [
        ("512099002001", "village", False),
        ("512099002002", "village", False),
    ]


def test_list_is_paged_with_next(client, login_as, small_county):
    login_as("member")
    first = client.get("/api/v1/areas?level=village&limit=3").get_json()
    assert [i["code"] for i in first["items"]] == ["512099001001", "512099001002", "512099002001"]
    assert first["next"].endswith("/api/v1/areas?level=village&limit=3&offset=3")
    second = client.get(first["next"]).get_json()
    assert [i["code"] for i in second["items"]] == ["512099002002"] and second["next"] is None


def test_list_rejects_bad_values(client, login_as, small_county):
    login_as("member")
    response = client.get("/api/v1/areas?level=city")
    assert response.status_code == 422
    assert set(response.get_json()) == {"error", "message", "errors"}
    assert "level" in response.get_json()["errors"]


def test_area_at_a_point(client, login_as, small_county):
    login_as("unit")
    body = client.get("/api/v1/areas/at?lon=104.07&lat=30.05").get_json()
    assert body["village"]["code"] == "512099001002" and body["village"]["kind"] == "community"
    assert body["township"] == {
        "code": "512099001000", "name": "东风镇", "level": "township", "kind": "town",
        "parent_code": "512099000000", "has_boundary": True,
    }  # fmt: skip
    # point-only villages: the nearest office in the containing township
    body = client.get("/api/v1/areas/at?lon=104.17&lat=30.09").get_json()
    assert (body["village"]["code"], body["township"]["code"]) == ("512099002002", "512099002000")


def test_area_at_outside_and_bad_coordinates(client, login_as, small_county):
    login_as("member")
    outside = client.get("/api/v1/areas/at?lon=110&lat=30")
    assert outside.status_code == 404 and outside.get_json()["error"] == "not_found"
    bad = client.get("/api/v1/areas/at?lon=200&lat=x")
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"lon", "lat"}
    missing = client.get("/api/v1/areas/at?lon=104")
    assert missing.status_code == 422 and "lat" in missing.get_json()["errors"]


def test_sign_in_required(client, small_county):
    response = client.get("/api/v1/areas")
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
