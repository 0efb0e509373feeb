"""OGC API – Features in process: documents, shapes, stable schemas, paging, bbox, time, scope, privacy."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from shapely.geometry import MultiPoint, Point, box, shape

from fieldwatch.ogc.layers import CRS84, LAYERS
from fieldwatch.ogc.params import MAX_LIMIT

from .conftest import PERSONAL

GEOJSON = "application/geo+json"
CLASSES = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
}


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _link(body: dict, rel: str) -> dict | None:
    found = [link for link in body["links"] if link["rel"] == rel]
    assert len(found) <= 1, f"several {rel} links"
    return found[0] if found else None


def test_landing_page_links_api_conformance_and_data(client):
    response = client.get("/ogc")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    links = {link["rel"]: link for link in response.get_json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert _local(links["service-desc"]["href"]) == "/ogc/api"
    assert _local(links["conformance"]["href"]) == "/ogc/conformance"
    assert _local(links["data"]["href"]) == "/ogc/collections"
    assert client.get("/ogc/").status_code == 200
    assert client.get("/ogc?f=json").status_code == 200


def test_conformance_declares_core_geojson_oas30(client):
    response = client.get("/ogc/conformance")
    assert response.mimetype == "application/json"
    assert set(response.get_json()["conformsTo"]) == CLASSES


def test_openapi_document_states_the_limits_and_every_layer(client):
    response = client.get("/ogc/api")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = response.get_json()
    assert doc["openapi"].startswith("3.0")
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert limit == {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}
    assert set(doc["components"]["parameters"]["collectionId"]["schema"]["enum"]) == set(LAYERS)
    for path in ("/", "/conformance", "/collections", "/collections/{collectionId}/items"):
        assert "get" in doc["paths"][path]
    for layer in LAYERS.values():
        schema = doc["components"]["schemas"][f"{layer.id}Feature"]["properties"]["properties"]
        assert list(schema["properties"]) == [p.name for p in layer.properties]
    # every $ref points at something that exists
    text = response.get_data(as_text=True)
    import re

    for ref in set(re.findall(r'"\$ref": "#/components/(\w+)/([\w-]+)"', text)):
        assert ref[1] in doc["components"][ref[0]], ref


def test_collections_need_sign_in(client, world):
    response = client.get("/ogc/collections")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(response.get_json()) == {"error", "message", "errors"}
    assert client.get("/ogc/collections/issues/items").status_code == 401
    bad = client.get("/ogc/collections", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_collections_describe_every_layer(client, admin_headers):
    response = client.get("/ogc/collections", headers=admin_headers)
    assert response.status_code == 200 and response.mimetype == "application/json"
    collections = {c["id"]: c for c in response.get_json()["collections"]}
    assert set(collections) == set(LAYERS)
    county = box(104.0, 30.0, 104.2, 30.1)
    for layer_id, body in collections.items():
        assert body["itemType"] == "feature"
        assert body["crs"] == [CRS84]
        items = _link(body, "items")
        assert items["type"] == GEOJSON
        assert _local(items["href"]) == f"/ogc/collections/{layer_id}/items"
        assert _link(body, "describedby")["type"] == "application/schema+json"
        (bbox,) = body["extent"]["spatial"]["bbox"]
        assert body["extent"]["spatial"]["crs"] == CRS84
        assert county.buffer(1e-6).contains(box(*bbox)), layer_id
        one = client.get(f"/ogc/collections/{layer_id}", headers=admin_headers)
        assert one.status_code == 200 and one.get_json()["id"] == layer_id
    assert client.get("/ogc/collections/nothing", headers=admin_headers).status_code == 404


def test_public_layers_setting_opens_places_and_stations_only(app, client, world):
    app.config["PUBLIC_LAYERS"] = True
    try:
        listed = {c["id"] for c in client.get("/ogc/collections").get_json()["collections"]}
        assert listed == {"townships", "villages", "village_offices", "stations"}
        for layer_id in listed:
            assert client.get(f"/ogc/collections/{layer_id}/items").status_code == 200
        for layer_id in ("issues", "visits", "followups"):
            assert client.get(f"/ogc/collections/{layer_id}/items").status_code == 401
    finally:
        app.config["PUBLIC_LAYERS"] = False
    assert client.get("/ogc/collections/townships/items").status_code == 401


def _all_features(client, headers, layer_id: str, **query) -> list[dict]:
    url = f"/ogc/collections/{layer_id}/items"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    features = []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        features += body["features"]
        nxt = _link(body, "next")
        url = _local(nxt["href"]) if nxt else None
    return features


@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_every_feature_has_the_same_keys_and_the_layer_geometry(client, admin_headers, layer_id):
    response = client.get(f"/ogc/collections/{layer_id}/items?f=json", headers=admin_headers)
    assert response.status_code == 200
    assert response.mimetype == GEOJSON
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == len(body["features"]) > 0
    assert body["numberMatched"] == len(body["features"])
    layer = LAYERS[layer_id]
    names = [p.name for p in layer.properties]
    for feature in body["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["id"], int)
        assert list(feature["properties"]) == names
        if feature["geometry"] is not None:
            assert feature["geometry"]["type"] == layer.geometry_type
        one = client.get(
            f"/ogc/collections/{layer_id}/items/{feature['id']}", headers=admin_headers
        )
        assert one.status_code == 200 and one.mimetype == GEOJSON
        single = one.get_json()
        assert single["properties"] == feature["properties"]
        assert _link(single, "collection") is not None


def test_json_schema_matches_the_properties(client, admin_headers):
    response = client.get("/ogc/collections/issues/schema", headers=admin_headers)
    assert response.mimetype == "application/schema+json"
    props = response.get_json()["properties"]["properties"]["properties"]
    assert list(props) == [p.name for p in LAYERS["issues"].properties]
    assert props["created_at"] == {
        "type": "string",
        "format": "date-time",
        "description": "received",
    }


def test_villages_are_polygons_or_null_and_offices_are_points(client, admin_headers, world):
    villages = {
        f["properties"]["code"]: f for f in _all_features(client, admin_headers, "villages")
    }
    assert set(villages) == {"512099001001", "512099001002", "512099002001", "512099002002"}
    assert shape(villages["512099001001"]["geometry"]).equals(box(104.0, 30.0, 104.05, 30.1))
    assert villages["512099002001"]["geometry"] is None
    assert villages["512099002001"]["properties"]["has_boundary"] is False
    assert villages["512099002001"]["properties"]["office_lon"] == pytest.approx(104.12)
    assert villages["512099002001"]["properties"]["township_code"] == "512099002000"
    offices = {
        f["properties"]["code"]: f for f in _all_features(client, admin_headers, "village_offices")
    }
    # every village has an office point (a polygon's representative point when none was given)
    assert set(offices) == set(villages)
    assert shape(offices["512099002002"]["geometry"]).equals(Point(104.18, 30.05))
    assert box(104.0, 30.0, 104.05, 30.1).contains(shape(offices["512099001001"]["geometry"]))
    townships = _all_features(client, admin_headers, "townships")
    assert {f["properties"]["code"] for f in townships} == {"512099001000", "512099002000"}
    assert all(f["properties"]["county_code"] == "512099000000" for f in townships)


def test_issue_features_carry_the_problem_not_the_people(client, admin_headers, world):
    features = {f["properties"]["ref"]: f for f in _all_features(client, admin_headers, "issues")}
    drain = features[world.issues["drain"].ref]
    assert shape(drain["geometry"]).equals(Point(104.07, 30.04))
    props = drain["properties"]
    assert props["status"] == "in_progress" and props["is_open"] is True
    assert props["unit"] == "water" and props["category"] == "drainage"
    assert props["village_code"] == "512099001002" and props["township_code"] == "512099001000"
    assert props["created_at"] == "2026-03-10T02:00:00Z"
    assert props["due_on"] is not None
    rubbish = features[world.issues["rubbish"].ref]["properties"]
    assert rubbish["is_open"] is False and rubbish["source"] == "open311"


def test_visits_are_multipoints_of_their_stops_in_order(client, admin_headers, world):
    visits = {f["id"]: f for f in _all_features(client, admin_headers, "visits")}
    visit = visits[world.visits["visit"].id]
    assert shape(visit["geometry"]).equals(MultiPoint([(104.07, 30.04), (104.03, 30.02)]))
    assert visit["geometry"]["coordinates"] == [[104.07, 30.04], [104.03, 30.02]]
    assert visit["properties"]["stop_count"] == 2
    assert visit["properties"]["issue_refs"] == world.issues["drain"].ref
    assert visit["properties"]["station_name"] == "红星村协商工作站"
    empty = visits[world.visits["empty"].id]
    assert empty["geometry"] is None and empty["properties"]["stop_count"] == 0


def test_followups_sit_at_the_problem_with_the_inspector_position_as_numbers(
    client, admin_headers, world
):
    features = {f["id"]: f for f in _all_features(client, admin_headers, "followups")}
    done = features[world.followups["done"].id]
    assert shape(done["geometry"]).equals(Point(104.02, 30.05))
    props = done["properties"]
    assert props["inspector_lon"] == pytest.approx(104.0205)
    assert props["inspector_lat"] == pytest.approx(30.0502)
    assert props["state"] == "done" and props["finding"] == "solved" and props["on_site"] is True
    overdue = features[world.followups["overdue"].id]["properties"]
    assert overdue["state"] == "overdue" and overdue["days_overdue"] == 5
    assert overdue["inspector_lon"] is None and overdue["unit"] == "water"
    of_visit = features[world.followups["of_visit"].id]
    assert shape(of_visit["geometry"]).equals(Point(104.07, 30.04))  # the visit's first stop
    assert of_visit["properties"]["visit_id"] == world.visits["visit"].id


def test_no_personal_data_in_any_layer(client, admin_headers, world):
    bodies = []
    for layer_id in LAYERS:
        response = client.get(f"/ogc/collections/{layer_id}/items", headers=admin_headers)
        bodies.append(response.get_data(as_text=True))
        for feature in response.get_json()["features"]:
            one = client.get(
                f"/ogc/collections/{layer_id}/items/{feature['id']}", headers=admin_headers
            )
            bodies.append(one.get_data(as_text=True))
    text = "\n".join(bodies)
    assert world.issues["rubbish"].contact_phone == "13912345678"  # it is stored ...
    for secret in PERSONAL:
        assert secret not in text, secret  # ... and never served
    for key in ("contact", "reporter", "phone", "email", "convener", "inspector_id", "leader"):
        assert f'"{key}' not in text, key


def test_bbox_selects_by_the_indexed_geometry(client, admin_headers, world):
    east = "104.1,30.0,104.2,30.1"
    refs = {
        f["properties"]["ref"] for f in _all_features(client, admin_headers, "issues", bbox=east)
    }
    assert refs == {world.issues["rubbish"].ref}
    west = {
        f["properties"]["ref"]
        for f in _all_features(client, admin_headers, "issues", bbox="104.0,30.0,104.09,30.1")
    }
    assert west == {world.issues["pothole"].ref, world.issues["drain"].ref}
    # point-only villages are found by their office
    villages = _all_features(client, admin_headers, "villages", bbox="104.15,30.0,104.2,30.1")
    assert {f["properties"]["code"] for f in villages} == {"512099002002"}
    # a visit meets a box through any of its stops
    visits = _all_features(client, admin_headers, "visits", bbox="104.025,30.015,104.035,30.025")
    assert [f["id"] for f in visits] == [world.visits["visit"].id]
    followups = _all_features(client, admin_headers, "followups", bbox="104.06,30.03,104.08,30.05")
    assert {f["id"] for f in followups} == {
        world.followups["overdue"].id,
        world.followups["of_visit"].id,
    }
    six = _all_features(client, admin_headers, "issues", bbox="104.1,30.0,0,104.2,30.1,100")
    assert {f["properties"]["ref"] for f in six} == refs


def test_paging_follows_next_links_to_every_feature_once(client, admin_headers, world):
    all_ids = [f["id"] for f in _all_features(client, admin_headers, "villages")]
    first = client.get("/ogc/collections/villages/items?limit=3", headers=admin_headers).get_json()
    assert first["numberReturned"] == 3 and first["numberMatched"] == 4
    assert _link(first, "prev") is None
    nxt = _link(first, "next")
    assert nxt["type"] == GEOJSON
    query = parse_qs(urlsplit(nxt["href"]).query)
    assert query["offset"] == ["3"] and query["limit"] == ["3"]
    second = client.get(_local(nxt["href"]), headers=admin_headers).get_json()
    assert second["numberReturned"] == 1 and _link(second, "next") is None
    assert parse_qs(urlsplit(_link(second, "prev")["href"]).query)["offset"] == ["0"]
    paged = [f["id"] for f in first["features"] + second["features"]]
    assert paged == sorted(all_ids) and len(set(paged)) == 4
    # filters travel with the links
    page = client.get(
        "/ogc/collections/issues/items?limit=1&bbox=104.0,30.0,104.09,30.1", headers=admin_headers
    ).get_json()
    assert page["numberMatched"] == 2
    assert "bbox=" in _link(page, "next")["href"]


def test_limit_is_capped_and_bad_parameters_are_400(client, admin_headers, world):
    big = client.get("/ogc/collections/issues/items?limit=50000", headers=admin_headers)
    assert big.status_code == 200
    assert parse_qs(urlsplit(_link(big.get_json(), "self")["href"]).query)["limit"] == [
        str(MAX_LIMIT)
    ]
    for query in (
        "limit=0",
        "limit=x",
        "offset=-1",
        "bbox=1,2,3",
        "bbox=104.2,30,104.1,30.1",
        "bbox=a,b,c,d",
        "crs=http://www.opengis.net/def/crs/EPSG/0/4326",
        "bbox-crs=EPSG:3857",
        "datetime=yesterday",
        "f=html",
        "colour=red",
    ):
        response = client.get(f"/ogc/collections/issues/items?{query}", headers=admin_headers)
        assert response.status_code == 400, query
        assert response.get_json()["error"] == "bad_request"
    ok = client.get(f"/ogc/collections/issues/items?crs={CRS84}", headers=admin_headers)
    assert ok.status_code == 200 and ok.headers["Content-Crs"] == f"<{CRS84}>"


def test_datetime_filters_each_layer_on_its_own_time(client, admin_headers, world, freeze):
    from datetime import UTC, datetime

    from fieldwatch.issues import services

    freeze(datetime(2026, 5, 1, 3, 0, tzinfo=UTC))
    later, _ = services.report_issue(
        world.people["reporter"], title="路灯不亮", category="utilities", lon=104.03, lat=30.03
    )
    from fieldwatch.extensions import db

    db.session.commit()

    def refs(value):
        features = _all_features(client, admin_headers, "issues", datetime=value)
        return {f["properties"]["ref"] for f in features}

    assert refs("2026-04-01T00:00:00Z/..") == {later.ref}
    assert refs("../2026-04-01T00:00:00Z") == {i.ref for i in world.issues.values()}
    assert refs("2026-05-01") == {later.ref}  # a local day
    assert refs("2026-03-10T02:00:00Z") == {i.ref for i in world.issues.values()}
    visits = _all_features(client, admin_headers, "visits", datetime="2026-03-20")
    assert [f["id"] for f in visits] == [world.visits["visit"].id]
    stations = _all_features(client, admin_headers, "stations", datetime="2024-06-01")
    assert stations == []  # not yet established
    followups = _all_features(client, admin_headers, "followups", datetime="2026-03-01/2026-03-05")
    assert {f["id"] for f in followups} == {
        world.followups["done"].id,
        world.followups["overdue"].id,
    }
    bad = client.get(
        "/ogc/collections/issues/items?datetime=2026-05-01/2026-04-01", headers=admin_headers
    )
    assert bad.status_code == 400


def test_item_by_id_or_ref_and_404s(client, admin_headers, world):
    ref = world.issues["pothole"].ref
    by_ref = client.get(f"/ogc/collections/issues/items/{ref}", headers=admin_headers)
    assert by_ref.status_code == 200
    assert by_ref.get_json()["id"] == world.issues["pothole"].id
    for path in (
        "/ogc/collections/issues/items/999999",
        "/ogc/collections/issues/items/FW-1999-000000",
        "/ogc/collections/villages/items/nope",
        "/ogc/collections/nothing/items/1",
    ):
        response = client.get(path, headers=admin_headers)
        assert response.status_code == 404, path
        assert response.get_json()["error"] == "not_found"


def test_rows_follow_each_view_rule(client, world, make_user, token_for):
    t1 = world.county.townships["T1"].code
    water = token_for(make_user("unit", unit="water"))
    refs = {f["properties"]["ref"] for f in _all_features(client, water, "issues")}
    assert refs == {world.issues["drain"].ref}
    followups = {f["id"] for f in _all_features(client, water, "followups")}
    assert followups == {world.followups["overdue"].id}
    assert {f["id"] for f in _all_features(client, water, "visits")} == {world.visits["visit"].id}
    hidden = world.issues["pothole"].id
    assert client.get(f"/ogc/collections/issues/items/{hidden}", headers=water).status_code == 404

    scoped = token_for(make_user("leader", township="512099002000"))
    refs = {f["properties"]["ref"] for f in _all_features(client, scoped, "issues")}
    assert refs == {world.issues["rubbish"].ref}
    assert {f["id"] for f in _all_features(client, scoped, "visits")} == {world.visits["empty"].id}
    assert _all_features(client, scoped, "followups") == []
    # places and stations are everyone's
    assert len(_all_features(client, scoped, "villages")) == 4

    invited = token_for(world.people["reporter"])
    assert {f["id"] for f in _all_features(client, invited, "visits")} == {world.visits["visit"].id}
    stranger = token_for(make_user("member", township=t1))
    assert _all_features(client, stranger, "visits") == []


def test_a_dear_count_is_left_out_and_the_request_goes_on(app, world, monkeypatch):
    from dataclasses import replace

    from sqlalchemy import text

    from fieldwatch.extensions import db
    from fieldwatch.ogc import queries

    slow = replace(
        LAYERS["townships"], where=(*LAYERS["townships"].where, "pg_sleep(0.05) IS NOT NULL")
    )
    admin = world.people["admin"]
    assert queries.count_matched(LAYERS["townships"], admin, queries.Filters()) == 2
    monkeypatch.setattr(queries, "COUNT_BUDGET_MS", 30)
    assert queries.count_matched(slow, admin, queries.Filters()) is None
    # the cancelled count neither spoiled the transaction nor left its timeout behind
    assert db.session.scalar(text("SELECT count(*) FROM pg_sleep(0.05)")) == 1
    assert db.session.scalar(text("SHOW statement_timeout")) == "0"


def test_later_pages_skip_the_count(client, admin_headers, world):
    second = client.get("/ogc/collections/villages/items?limit=2&offset=2", headers=admin_headers)
    body = second.get_json()
    assert body["numberReturned"] == 2 and "numberMatched" not in body
    assert _link(body, "next") is not None  # a full page: there may be more
