"""The main map's layers: bbox filtering, clustering by zoom, flags, coverage and who sees what."""

from urllib.parse import urlencode

import pytest
from shapely.geometry import MultiPoint, Point, box, shape

from tests.map.conftest import COUNTY, T1_BOX, T2_BOX


def bbox(box) -> str:
    return ",".join(str(v) for v in box)


def layer(client, name, box=COUNTY, zoom=17, **params):
    query = urlencode({"bbox": bbox(box), "zoom": zoom, **params})
    response = client.get(f"/api/v1/map/layers/{name}?{query}")
    assert response.status_code == 200, response.text
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    return body


def refs(body) -> set[str]:
    return {f["properties"]["ref"] for f in body["features"] if not f["properties"].get("cluster")}


def ref_of(mapdata, *keys) -> set[str]:
    return {mapdata.issues[k].ref for k in keys}


# --- problems ---------------------------------------------------------------------------
def test_issues_are_bounded_by_the_bbox(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    assert refs(layer(client, "issues", T1_BOX)) == ref_of(mapdata, "a", "b", "c", "d")
    assert refs(layer(client, "issues", T2_BOX)) == ref_of(mapdata, "e")
    assert layer(client, "issues", (100.0, 20.0, 100.1, 20.1))["features"] == []


def test_open_issues_by_default_and_other_statuses_on_request(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    assert mapdata.issues["closed"].ref not in refs(layer(client, "issues"))
    assert refs(layer(client, "issues", status="closed")) == ref_of(mapdata, "closed")
    assert len(refs(layer(client, "issues", status="all"))) == 6
    assert refs(layer(client, "issues", status="reported,closed")) == ref_of(
        mapdata, "d", "e", "closed"
    )


def test_points_carry_status_and_what_stands_out(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    body = layer(client, "issues")
    assert body["mode"] == "points"
    by_ref = {f["properties"]["ref"]: f for f in body["features"]}
    a = by_ref[mapdata.issues["a"].ref]
    assert a["properties"]["status"] == "in_progress"
    assert a["properties"]["overdue"] is True and a["properties"]["reopened"] is False
    assert a["properties"]["due_on"] == "2026-03-07"
    assert shape(a["geometry"]).equals_exact(Point(104.02, 30.05), 1e-9)
    assert a["id"] == mapdata.issues["a"].id
    b, c = by_ref[mapdata.issues["b"].ref], by_ref[mapdata.issues["c"].ref]
    assert b["properties"]["overdue"] is False  # due in ten days
    assert c["properties"]["reopened"] is True and c["properties"]["overdue"] is False
    assert c["properties"]["category_name"] == "道路交通"
    # no personal data on the map
    assert not {"reporter", "contact_name", "contact_phone"} & set(a["properties"])


def test_low_zoom_counts_per_township(client, login_as, mapdata, small_county):
    login_as(mapdata.people["leader"])
    body = layer(client, "issues", zoom=9)
    assert body["mode"] == "township"
    counts = {f["properties"]["township"]: f["properties"] for f in body["features"]}
    t1, t2 = small_county.townships["T1"].code, small_county.townships["T2"].code
    assert counts[t1]["count"] == 4 and counts[t1]["overdue"] == 1 and counts[t1]["reopened"] == 1
    assert counts[t1]["name"] == "东风镇"
    assert counts[t2]["count"] == 1 and counts[t2]["overdue"] == 0
    assert all(f["properties"]["cluster"] for f in body["features"])


def test_middle_zooms_cluster_near_points_and_keep_lone_ones(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    body = layer(client, "issues", zoom=13)
    assert body["mode"] == "grid"
    clusters = [f for f in body["features"] if f["properties"].get("cluster")]
    singles = [f for f in body["features"] if not f["properties"].get("cluster")]
    # a and b are 11 m apart: one cluster of two, holding the one overdue
    assert [(c["properties"]["count"], c["properties"]["overdue"]) for c in clusters] == [(2, 1)]
    centre = shape(clusters[0]["geometry"])
    assert centre.distance(Point(104.02, 30.05005)) < 1e-6
    assert {f["properties"]["ref"] for f in singles} == ref_of(mapdata, "c", "d", "e")
    # zoomed in, the two are apart again
    assert refs(layer(client, "issues", zoom=17)) == ref_of(mapdata, "a", "b", "c", "d", "e")


def test_cluster_cells_follow_the_zoom(client, login_as, mapdata):
    """A cell is 60 screen pixels: about 4 km at zoom 11, 120 m at zoom 16."""
    login_as(mapdata.people["leader"])
    coarse = layer(client, "issues", zoom=11)["features"]
    fine = layer(client, "issues", zoom=16)["features"]
    assert sum(f["properties"].get("count", 1) for f in coarse) == 5
    assert sum(f["properties"].get("count", 1) for f in fine) == 5
    assert len(coarse) < len(fine) <= 5


def test_points_are_paged_with_a_next_link(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    first = layer(client, "issues", limit=2)
    assert len(first["features"]) == 2 and first["truncated"] is True
    nexts = [link["href"] for link in first["links"] if link["rel"] == "next"]
    assert len(nexts) == 1 and "offset=2" in nexts[0]
    second = client.get(nexts[0].replace("http://localhost", "")).get_json()
    assert len(second["features"]) == 2
    assert not {f["id"] for f in first["features"]} & {f["id"] for f in second["features"]}


def test_unit_staff_see_only_their_departments_problems(client, login_as, mapdata):
    login_as(mapdata.people["water"])
    assert refs(layer(client, "issues", status="all")) == ref_of(mapdata, "a", "b", "closed")
    counts = layer(client, "issues", zoom=9)["features"]
    assert sum(f["properties"]["count"] for f in counts) == 2


def test_a_township_scoped_member_sees_that_townships_problems(client, login_as, mapdata):
    login_as(mapdata.people["t1_member"])
    assert refs(layer(client, "issues")) == ref_of(mapdata, "a", "b", "c", "d")


def test_category_filter(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    assert refs(layer(client, "issues", category="roads")) == ref_of(
        mapdata, "a", "b", "c", "d", "e"
    )
    assert refs(layer(client, "issues", category="safety")) == set()


# --- places and stations ----------------------------------------------------------------
def test_townships_carry_coverage(client, login_as, mapdata, small_county):
    login_as(mapdata.people["member"])
    body = layer(client, "townships", zoom=12)
    by_code = {f["properties"]["code"]: f for f in body["features"]}
    t1 = by_code[small_county.townships["T1"].code]["properties"]
    t2 = by_code[small_county.townships["T2"].code]["properties"]
    assert (t1["villages"], t1["covered"], t1["coverage_pct"], t1["has_platform"]) == (
        2,
        1,
        50.0,
        True,
    )
    # the only station in T2 closed a month ago
    assert (t2["villages"], t2["covered"], t2["coverage_pct"], t2["has_platform"]) == (
        2,
        0,
        0.0,
        False,
    )
    geometry = shape(by_code[small_county.townships["T1"].code]["geometry"])
    assert geometry.symmetric_difference(box(*T1_BOX)).area < 1e-9
    # a view inside T2 only
    inside_t2 = layer(client, "townships", (104.12, 30.02, 104.18, 30.08), zoom=12)
    assert [f["properties"]["code"] for f in inside_t2["features"]] == [
        small_county.townships["T2"].code
    ]


def test_villages_appear_from_zoom_eleven_as_polygons_or_office_points(client, login_as, mapdata):
    login_as(mapdata.people["member"])
    hidden = layer(client, "villages", zoom=10)
    assert hidden["features"] == [] and hidden["mode"] == "hidden"
    body = layer(client, "villages", zoom=12)
    by_code = {f["properties"]["code"]: f for f in body["features"]}
    assert set(by_code) == {"512099001001", "512099001002", "512099002001", "512099002002"}
    assert by_code["512099001001"]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert by_code["512099002001"]["geometry"]["type"] == "Point"
    assert by_code["512099001001"]["properties"]["covered"] is True
    assert by_code["512099001002"]["properties"]["covered"] is False
    assert by_code["512099001001"]["properties"]["township_name"] == "东风镇"
    only_t2 = layer(client, "villages", (104.11, 30.0, 104.2, 30.1), zoom=12)
    assert {f["properties"]["code"] for f in only_t2["features"]} == {
        "512099002001",
        "512099002002",
    }


def test_stations_open_and_closed(client, login_as, mapdata):
    login_as(mapdata.people["member"])
    body = layer(client, "stations", zoom=14)
    by_name = {f["properties"]["name"]: f["properties"] for f in body["features"]}
    assert by_name["红星村协商工作站"]["open"] is True
    assert by_name["石桥村议事会"]["open"] is False
    low = layer(client, "stations", zoom=9)
    assert low["mode"] == "township"
    assert sorted(
        (f["properties"]["count"], f["properties"]["closed"]) for f in low["features"]
    ) == [(1, 0), (1, 1)]


# --- visits and look-backs --------------------------------------------------------------
def test_visits_are_their_stops_in_route_order(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    body = layer(client, "visits", zoom=12)
    assert [f["id"] for f in body["features"]] == [mapdata.visits["planned"].id]
    visit = body["features"][0]
    assert visit["properties"]["status"] == "planned" and visit["properties"]["stops"] == 2
    assert shape(visit["geometry"]).equals(MultiPoint([(104.02, 30.05), (104.07, 30.03)]))
    assert visit["geometry"]["coordinates"][0] == [104.02, 30.05]
    # a box around neither stop finds nothing
    assert layer(client, "visits", T2_BOX, zoom=12)["features"] == []


def test_visits_follow_the_visit_rule(client, login_as, mapdata):
    login_as(mapdata.people["member"])  # not invited
    assert layer(client, "visits", zoom=12)["features"] == []
    login_as(mapdata.people["member2"])  # invited
    assert len(layer(client, "visits", zoom=12)["features"]) == 1
    login_as(mapdata.people["water"])  # the unit is invited
    assert len(layer(client, "visits", zoom=12)["features"]) == 1
    login_as(mapdata.people["transport"])
    assert layer(client, "visits", zoom=12)["features"] == []


def test_lookbacks_due_overdue_and_done(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    body = layer(client, "followups", zoom=17)
    states = {f["properties"]["ref"]: f["properties"] for f in body["features"]}
    assert states[mapdata.issues["c"].ref]["state"] == "overdue"
    assert states[mapdata.issues["c"].ref]["days_overdue"] == 2
    assert states[mapdata.issues["d"].ref]["state"] == "due"
    done = states[mapdata.issues["closed"].ref]
    assert (done["state"], done["finding"], done["done_on"]) == ("done", "solved", "2026-03-05")
    # drawn at the problem's place
    at = {f["properties"]["ref"]: shape(f["geometry"]) for f in body["features"]}
    assert at[mapdata.issues["c"].ref].equals_exact(Point(104.07, 30.03), 1e-9)
    counts = layer(client, "followups", zoom=9)["features"]
    assert [
        (f["properties"]["count"], f["properties"]["overdue"], f["properties"]["due"])
        for f in counts
    ] == [(3, 1, 1)]


def test_a_unit_sees_the_lookbacks_of_its_own_problems(client, login_as, mapdata):
    login_as(mapdata.people["transport"])
    body = layer(client, "followups", zoom=17)
    assert [f["properties"]["ref"] for f in body["features"]] == [mapdata.issues["c"].ref]


# --- errors and caching -------------------------------------------------------------------
def test_needs_sign_in(client, mapdata):
    response = client.get(f"/api/v1/map/layers/issues?bbox={bbox(COUNTY)}&zoom=12")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=1,2,3&zoom=12", "bbox"),
        ("bbox=104.2,30,104,30.1&zoom=12", "bbox"),
        ("bbox=104,30,104.2,95&zoom=12", "bbox"),
        ("bbox=104,30,104.2,30.1&zoom=23", "zoom"),
        ("bbox=104,30,104.2,30.1", "zoom"),
        ("zoom=3", "bbox"),
    ],
)
def test_bad_views_are_422_with_the_field(client, login_as, mapdata, query, field):
    login_as("member")
    response = client.get(f"/api/v1/map/layers/issues?{query}")
    assert response.status_code == 422
    body = response.get_json()
    assert set(body) >= {"error", "message", "errors"} and field in body["errors"]


def test_unknown_layer_is_404(client, login_as):
    login_as("member")
    response = client.get(f"/api/v1/map/layers/secrets?bbox={bbox(COUNTY)}&zoom=12")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_etag_answers_304_when_nothing_changed(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    url = f"/api/v1/map/layers/issues?bbox={bbox(COUNTY)}&zoom=14"
    first = client.get(url)
    assert first.headers["ETag"] and "private" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    mapdata.issues["e"].status = "closed"
    from fieldwatch.extensions import db

    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
