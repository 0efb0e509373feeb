"""`/api/v1/stations`: POST, GET, PATCH and the list, in the DESIGN.md shapes."""

from __future__ import annotations

import pytest
from shapely.geometry import shape

#: a browser page of our own (cookie-authenticated writes must be same-origin)
SAME = {"Sec-Fetch-Site": "same-origin"}
V11, V12, V21, V22 = "512099001001", "512099001002", "512099002001", "512099002002"
T1, T2 = "512099001000", "512099002000"


@pytest.fixture
def admin(login_as, small_county):
    return login_as("admin")


def post(client, **body):
    return client.post("/api/v1/stations", json=body, headers=SAME)


def patch(client, station_id, **body):
    return client.patch(f"/api/v1/stations/{station_id}", json=body, headers=SAME)


def test_post_places_the_station_and_serves_its_village(client, admin):
    response = post(client, name="红星村乡邻协商站", kind="rural", lon=104.02, lat=30.05)

    assert response.status_code == 201
    feature = response.get_json()
    assert feature["type"] == "Feature" and isinstance(feature["id"], int)
    assert shape(feature["geometry"]).equals_exact(
        shape({"type": "Point", "coordinates": [104.02, 30.05]}), 1e-9
    )
    p = feature["properties"]
    assert (p["village_code"], p["township_code"], p["serves"]) == (V11, T1, [V11])
    assert (p["kind"], p["tier"], p["status"], p["member_count"]) == ("rural", "village", "open", 0)
    assert p["five_haves"] == dict.fromkeys(
        ("venue", "signage", "rules", "activities", "results"), False
    )
    assert p["member_warning"] == "few" and p["members"] == []


def test_post_with_all_values(client, admin, make_user):
    members = [make_user("member").id for _ in range(3)]
    response = post(
        client,
        name="石桥委员工作室",
        kind="member_studio",
        lon=104.13,
        lat=30.06,
        serves=[V22, V21],
        established_on="2024-03-01",
        closed_on=None,
        five_haves={"venue": True, "signage": True},
        has_results=True,
        convener="张三",
        member_ids=members,
    )
    assert response.status_code == 201, response.get_json()
    p = response.get_json()["properties"]
    # point-only villages: the nearest office in the containing township
    assert (p["village_code"], p["township_code"]) == (V21, T2)
    assert p["serves"] == [V21, V22]
    assert p["five_haves"] == {
        "venue": True,
        "signage": True,
        "rules": False,
        "activities": False,
        "results": True,
    }
    assert (p["established_on"], p["five_haves_met"], p["member_count"], p["member_warning"]) == (
        "2024-03-01", 3, 3, None,
    )  # fmt: skip


def test_platforms_serve_only_what_they_list(client, admin):
    p = post(client, name="东风镇协商议事平台", kind="township_platform", lon=104.03, lat=30.05)
    props = p.get_json()["properties"]
    assert props["tier"] == "township" and props["serves"] == [] and props["township_code"] == T1


def test_given_village_code_wins(client, admin):
    response = post(client, name="站", kind="street_block", lon=104.02, lat=30.05, village_code=V12)
    assert response.get_json()["properties"]["village_code"] == V12
    assert response.get_json()["properties"]["serves"] == [V12]


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"kind": "pagoda"}, {"kind"}),
        ({"lon": 200, "lat": "north"}, {"lon", "lat"}),
        ({"serves": [V11, "512099009009"]}, {"serves"}),
        ({"village_code": "512099009009"}, {"village_code"}),
        ({"village_code": T1}, {"village_code"}),  # a township is no village
        ({"established_on": "2025-05-01", "closed_on": "2025-01-01"}, {"closed_on"}),
        ({"lat": None}, {"lat"}),
    ],
    ids=["kind", "coords", "serves", "village", "village-level", "dates", "missing-lat"],
)
def test_post_rejects_bad_values_with_field_errors(client, admin, body, fields):
    full = {"name": "站", "kind": "rural", "lon": 104.02, "lat": 30.05, **body}
    response = post(client, **full)
    assert response.status_code == 422
    answer = response.get_json()
    assert set(answer) == {"error", "message", "errors"} and answer["error"] == "invalid"
    assert set(answer["errors"]) == fields


def test_get_and_list(client, admin):
    a = post(client, name="甲站", kind="rural", lon=104.02, lat=30.05).get_json()
    post(client, name="乙站", kind="township_platform", lon=104.15, lat=30.05, closed_on="2020-01-01",
         established_on="2019-01-01")  # fmt: skip
    one = client.get(f"/api/v1/stations/{a['id']}")
    assert one.status_code == 200 and one.get_json()["properties"]["name"] == "甲站"
    assert client.get("/api/v1/stations/999999").status_code == 404

    listed = client.get("/api/v1/stations").get_json()
    assert listed["type"] == "FeatureCollection" and listed["links"] == []
    assert [f["properties"]["name"] for f in listed["features"]] == ["甲站", "乙站"]
    assert [
        f["properties"]["name"]
        for f in client.get("/api/v1/stations?status=open").get_json()["features"]
    ] == ["甲站"]
    assert [
        f["properties"]["name"]
        for f in client.get(f"/api/v1/stations?township={T2}").get_json()["features"]
    ] == ["乙站"]
    assert (
        client.get("/api/v1/stations?tier=township").get_json()["features"][0]["properties"]["name"]
        == "乙站"
    )
    bbox = client.get("/api/v1/stations?bbox=104.0,30.0,104.1,30.1").get_json()
    assert [f["properties"]["name"] for f in bbox["features"]] == ["甲站"]
    paged = client.get("/api/v1/stations?limit=1").get_json()
    assert len(paged["features"]) == 1 and paged["links"][0]["rel"] == "next"
    assert (
        client.get(paged["links"][0]["href"]).get_json()["features"][0]["properties"]["name"]
        == "乙站"
    )
    assert client.get("/api/v1/stations?kind=pagoda").status_code == 422


def test_patch_moves_and_follows_the_own_village(client, admin):
    a = post(client, name="甲站", kind="rural", lon=104.02, lat=30.05).get_json()
    moved = patch(client, a["id"], lon=104.08)
    assert moved.status_code == 200
    p = moved.get_json()["properties"]
    assert (p["village_code"], p["serves"]) == (V12, [V12])
    assert moved.get_json()["geometry"]["coordinates"] == [104.08, 30.05]

    listed = patch(client, a["id"], serves=[V11, V12], name="甲乙站")
    assert listed.get_json()["properties"]["serves"] == [V11, V12]
    again = patch(client, a["id"], lon=104.03)
    assert again.get_json()["properties"]["serves"] == [V11, V12]  # told otherwise: kept

    closed = patch(client, a["id"], closed_on="2020-01-01")
    assert closed.get_json()["properties"]["status"] == "closed"
    bad = patch(client, a["id"], kind="pagoda")
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]
    assert patch(client, 999999, name="x").status_code == 404


def test_only_admins_write(app, client, login_as, small_county, token_for, make_user):
    login_as("leader")
    assert post(client, name="站", kind="rural", lon=104.02, lat=30.05).status_code == 403
    assert client.get("/api/v1/stations").status_code == 200
    admin = make_user("admin")
    response = app.test_client().post(
        "/api/v1/stations",
        json={"name": "站", "kind": "rural", "lon": 104.02, "lat": 30.05},
        headers=token_for(admin),
    )
    assert response.status_code == 201


def test_cookie_writes_from_another_site_are_refused(client, admin):
    response = client.post(
        "/api/v1/stations",
        json={"name": "站", "kind": "rural", "lon": 104.02, "lat": 30.05},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
