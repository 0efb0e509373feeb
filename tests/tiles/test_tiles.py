"""Vector tiles: decoded with mapbox-vector-tile; counts at low zoom, points further in, errors."""

import math

import mapbox_vector_tile
import pytest

from fieldwatch.tiles.queries import tile_bbox


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def get_tile(client, layer, z, x, y, **headers):
    return client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf", headers=headers)


def decode(response) -> dict:
    assert response.status_code == 200, response.text
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.data)


def test_tile_bbox_matches_postgis(app):
    from sqlalchemy import text

    from fieldwatch.extensions import db

    for z, x, y in [(0, 0, 0), (10, 808, 422), (15, 25895, 13507)]:
        row = db.session.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS e) t"
            ),
            {"z": z, "x": x, "y": y},
        ).one()
        assert tile_bbox(z, x, y) == pytest.approx(tuple(row), abs=1e-9)


def test_issue_points_from_zoom_twelve(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    z, x, y = tile_of(104.02, 30.05, 14)
    tile = decode(get_tile(client, "issues", z, x, y))
    features = tile["issues"]["features"]
    by_ref = {f["properties"]["ref"]: f for f in features}
    a = by_ref[mapdata.issues["a"].ref]
    assert a["id"] == mapdata.issues["a"].id
    assert a["geometry"]["type"] == "Point"
    assert a["properties"]["status"] == "in_progress" and a["properties"]["overdue"] is True
    assert mapdata.issues["closed"].ref not in by_ref  # open problems only
    assert mapdata.issues["b"].ref in by_ref


def features_over_county(client, layer: str, z: int) -> list[dict]:
    """Every feature of the tiles that cover the small county at zoom `z`."""
    _, x0, y0 = tile_of(104.0, 30.1, z)
    _, x1, y1 = tile_of(104.2, 30.0, z)
    features = []
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            response = get_tile(client, layer, z, x, y)
            if response.status_code != 204:
                features += decode(response)[layer]["features"]
    return features


@pytest.mark.parametrize("z", [6, 9, 11])
def test_issue_counts_per_cell_below_zoom_twelve(client, login_as, mapdata, z):
    """Counts per cell; no point is counted twice in neighbouring tiles (104.0625 E is a seam)."""
    login_as(mapdata.people["leader"])
    cells = features_over_county(client, "issues", z)
    assert cells and all(f["properties"]["cluster"] is True for f in cells)
    assert sum(f["properties"]["count"] for f in cells) == 5
    assert sum(f["properties"]["overdue"] for f in cells) == 1
    assert sum(f["properties"]["reopened"] for f in cells) == 1
    assert "ref" not in cells[0]["properties"]


def test_unit_staff_get_their_departments_problems_only(client, login_as, mapdata):
    login_as(mapdata.people["transport"])
    z, x, y = tile_of(104.07, 30.03, 13)
    tile = decode(get_tile(client, "issues", z, x, y))
    assert [f["properties"]["ref"] for f in tile["issues"]["features"]] == [mapdata.issues["c"].ref]


def test_townships_with_coverage(client, login_as, mapdata, small_county):
    login_as(mapdata.people["member"])
    z, x, y = tile_of(104.1, 30.05, 10)
    tile = decode(get_tile(client, "townships", z, x, y))
    props = {f["properties"]["code"]: f["properties"] for f in tile["townships"]["features"]}
    t1 = props[small_county.townships["T1"].code]
    assert (t1["name"], t1["villages"], t1["covered"], t1["coverage_pct"]) == ("东风镇", 2, 1, 50)
    assert t1["has_platform"] is True
    assert tile["townships"]["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_villages_from_zoom_ten_polygons_and_points(client, login_as, mapdata):
    login_as(mapdata.people["member"])
    assert get_tile(client, "villages", *tile_of(104.1, 30.05, 9)).status_code == 204
    z, x, y = tile_of(104.12, 30.05, 12)
    tile = decode(get_tile(client, "villages", z, x, y))
    kinds = {f["properties"]["code"]: f["geometry"]["type"] for f in tile["villages"]["features"]}
    assert kinds["512099002001"] == "Point"


def test_stations_visits_and_lookbacks(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    z, x, y = tile_of(104.02, 30.045, 13)
    stations = decode(get_tile(client, "stations", z, x, y))["stations"]["features"]
    assert [f["properties"]["name"] for f in stations] == ["红星村协商工作站"]
    visits = decode(get_tile(client, "visits", z, x, y))["visits"]["features"]
    assert [f["id"] for f in visits] == [mapdata.visits["planned"].id]
    assert visits[0]["geometry"]["type"] in ("MultiPoint", "Point")
    z, x, y = tile_of(104.07, 30.03, 13)
    lookbacks = decode(get_tile(client, "followups", z, x, y))["followups"]["features"]
    assert [(f["properties"]["state"], f["properties"]["days_overdue"]) for f in lookbacks] == [
        ("overdue", 2)
    ]
    low = features_over_county(client, "stations", 8)
    assert sum(f["properties"]["count"] for f in low) == 2


def test_an_empty_area_is_204_with_no_body(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    for layer in ("issues", "townships", "villages", "stations", "visits", "followups"):
        response = get_tile(client, layer, *tile_of(-30.0, 60.0, 12))
        assert response.status_code == 204, layer
        assert response.data == b""
        assert "max-age" in response.headers["Cache-Control"]


def test_etag_and_cache_headers(client, login_as, mapdata):
    login_as(mapdata.people["leader"])
    z, x, y = tile_of(104.1, 30.05, 10)
    first = get_tile(client, "townships", z, x, y)
    assert first.headers["Cache-Control"] == "private, max-age=300"
    assert first.headers["ETag"]
    again = get_tile(client, "townships", z, x, y, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    issues = get_tile(client, "issues", *tile_of(104.02, 30.05, 14))
    assert issues.headers["Cache-Control"] == "private, max-age=30"


def test_unknown_layer_is_404(client, login_as):
    login_as("member")
    response = client.get("/tiles/secrets/1/0/0.pbf")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("23/0/0", "z"),
        ("2/4/0", "x"),
        ("2/0/4", "y"),
        ("a/0/0", "z"),
        ("1/-1/0", "x"),
        ("1/0/1.5", "y"),
    ],
)
def test_bad_tile_addresses_are_400(client, login_as, path, field):
    login_as("member")
    response = client.get(f"/tiles/issues/{path}.pbf")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad_request" and field in body["errors"]


def test_tiles_need_sign_in(client):
    response = client.get("/tiles/issues/1/0/0.pbf")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
