"""`GET /api/v1/coverage` in the DESIGN.md shape."""

from __future__ import annotations

from datetime import UTC, date, datetime

V11, V12, V21, V22 = "512099001001", "512099001002", "512099002001", "512099002002"
T1, T2 = "512099001000", "512099002000"


def test_coverage_shape_and_numbers(client, login_as, build):
    build.station(lon=104.02, lat=30.05, serves=[V11, V12])
    build.station("township_platform", lon=104.15, lat=30.05, serves=[V21])
    build.visit(V22, date(2025, 6, 1))
    login_as("unit")

    body = client.get("/api/v1/coverage?as_of=2025-06-30").get_json()

    assert body == {
        "as_of": "2025-06-30",
        "visited_since": "2025-04-02",
        "townships": [
            {"code": T1, "name": "东风镇", "kind": "town", "has_platform": True, "stations": 1,
             "villages": 1, "communities": 1, "covered": 2, "coverage_pct": 100.0,
             "fully_covered": True, "visited": 0, "uncovered": []},
            {"code": T2, "name": "西岭乡", "kind": "xiang", "has_platform": True, "stations": 1,
             "villages": 2, "communities": 0, "covered": 1, "coverage_pct": 50.0,
             "fully_covered": False, "visited": 1,
             "uncovered": [{"code": V22, "name": "柳湾村", "kind": "village"}]},
        ],
        "totals": {"townships": 2, "townships_with_platform": 2, "villages": 3, "communities": 1,
                   "covered": 3, "coverage_pct": 75.0, "visited": 1},
    }  # fmt: skip


def test_defaults_to_today_and_takes_visited_since(client, login_as, build, freeze):
    freeze(datetime(2025, 6, 30, 20, 0, tzinfo=UTC))  # already 1 July in Shanghai
    build.visit(V22, date(2025, 3, 1))
    login_as("member")
    body = client.get("/api/v1/coverage").get_json()
    assert body["as_of"] == "2025-07-01" and body["totals"]["visited"] == 0
    body = client.get("/api/v1/coverage?visited_since=2025-03-01").get_json()
    assert body["visited_since"] == "2025-03-01" and body["totals"]["visited"] == 1


def test_bad_dates_are_422(client, login_as, small_county):
    login_as("member")
    response = client.get("/api/v1/coverage?as_of=2025-02-30")
    assert response.status_code == 422 and "as_of" in response.get_json()["errors"]
    response = client.get("/api/v1/coverage?as_of=2025-01-01&visited_since=2025-02-01")
    assert response.status_code == 422 and "visited_since" in response.get_json()["errors"]


def test_one_township_and_sign_in(client, login_as, build):
    assert client.get("/api/v1/coverage").status_code == 401
    login_as("leader")
    body = client.get(f"/api/v1/coverage?township={T2}").get_json()
    assert [t["code"] for t in body["townships"]] == [T2]
