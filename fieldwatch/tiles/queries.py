"""Vector tiles (Mapbox Vector Tile) written by PostGIS's ST_AsMVT, one statement per tile.

The point layers reuse the map's own SQL (`fieldwatch.map.queries`) with the
view's box replaced by the tile's (ST_TileEnvelope, with a margin), so the GiST
index prefilter (`&&`) and the readers' row rules are the same as for the GeoJSON
layers, and a point's
JSON properties become its tile attributes (ST_AsMVT expands a jsonb column).
Below a layer's `aggregate_below` zoom a tile holds counts per grid cell
(16 x 16 cells per tile, each inside the tile, so no point is counted twice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text

from fieldwatch import datacache
from fieldwatch.extensions import db
from fieldwatch.map import queries as mapq
from fieldwatch.map.queries import Reader

EXTENT = 4096
#: tile units kept beyond the edge so symbols and lines are not cut at tile seams
BUFFER = 64
#: grid cells per tile side when a layer is aggregated
CELLS = 16
MAX_ZOOM = 22
#: half the width of the Web Mercator world, metres
WORLD = 20037508.342789244
TILE = "ST_TileEnvelope(:z, :x, :y)"


@dataclass(frozen=True)
class TileLayer:
    """A layer served as tiles: how to make a tile and how long browsers may keep it."""

    name: str
    build: object
    max_age: int


def tile_bounds_3857(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Return the tile's (xmin, ymin, xmax, ymax) in Web Mercator metres."""
    size = 2 * WORLD / 2**z
    xmin = -WORLD + x * size
    ymax = WORLD - y * size
    return xmin, ymax - size, xmin + size, ymax


def tile_bbox(z: int, x: int, y: int, margin: float = 0.0) -> tuple[float, float, float, float]:
    """Return the tile's WGS-84 box, grown by `margin` (a share of the tile's side)."""
    xmin, ymin, xmax, ymax = tile_bounds_3857(z, x, y)
    grow = (xmax - xmin) * margin
    xmin, ymin, xmax, ymax = xmin - grow, ymin - grow, xmax + grow, ymax + grow

    def lon(mx: float) -> float:
        return max(-180.0, min(180.0, math.degrees(mx / 6378137.0)))

    def lat(my: float) -> float:
        my = max(-WORLD, min(WORLD, my))
        return math.degrees(2 * math.atan(math.exp(my / 6378137.0)) - math.pi / 2)

    return lon(xmin), lat(ymin), lon(xmax), lat(ymax)


def _tile_params(z: int, x: int, y: int, reader: Reader, today: date, margin: float, **extra):
    x1, y1, x2, y2 = tile_bbox(z, x, y, margin)
    return {
        "z": z,
        "x": x,
        "y": y,
        "margin": margin,
        "x1": x1,
        "y1": y1,
        "x2": x2,
        "y2": y2,
        "today": today,
        **reader.params(),
        **extra,
    }


#: the tile (plus its margin) in WGS-84 for the `&&` index prefilter; the planner folds
#: these immutable calls into one constant box, so the GiST index is used
TILE_BOX = "ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326)"


def _mvt(sql: str, params: dict) -> bytes:
    """Run a tile statement; the layers' view box becomes the tile's own envelope."""
    data = db.session.execute(text(sql.replace(mapq.ENV, TILE_BOX)), params).scalar()
    return bytes(data) if data else b""


def point_tile(
    layer: mapq.PointLayer,
    z: int,
    x: int,
    y: int,
    reader: Reader,
    today: date,
    aggregate_below: int,
    **extra,
) -> bytes:
    """Return a point layer's tile: the points, or counts per cell below `aggregate_below`."""
    if z < aggregate_below:
        xmin, ymin, xmax, _ = tile_bounds_3857(z, x, y)
        cell = (xmax - xmin) / CELLS
        counts = "".join(f", count(*) FILTER (WHERE {flag}) AS {flag}" for flag in layer.flags)
        sums = "".join(f", {flag}" for flag in layer.flags)
        sql = f"""
            WITH pts AS ({layer.sql(with_props=False)}),
            merc AS (SELECT ST_Transform(geom, 3857) AS g, * FROM pts),
            cells AS (
                SELECT count(*) AS n, ST_Centroid(ST_Collect(g)) AS centre{counts}
                FROM merc GROUP BY ST_SnapToGrid(g, :ox, :oy, :cell, :cell)
            )
            SELECT ST_AsMVT(q, :layer, {EXTENT}, 'geom') FROM (
                SELECT ST_AsMVTGeom(centre, {TILE}, {EXTENT}, 0, true) AS geom,
                       n AS count{sums}, true AS cluster
                FROM cells
            ) q
        """
        # cells centred half a cell in from the tile's corner lie wholly inside it
        params = _tile_params(
            z, x, y, reader, today, 0.0, ox=xmin + cell / 2, oy=ymin + cell / 2, cell=cell
        )
    else:
        sql = f"""
            WITH pts AS ({layer.sql(with_props=True)})
            SELECT ST_AsMVT(q, :layer, {EXTENT}, 'geom', 'id') FROM (
                SELECT id, props::jsonb AS props,
                       ST_AsMVTGeom(ST_Transform(geom, 3857), {TILE}, {EXTENT}, {BUFFER}, true)
                           AS geom
                FROM pts
            ) q WHERE geom IS NOT NULL
        """
        params = _tile_params(z, x, y, reader, today, BUFFER / EXTENT, limit=0, offset=0)
    params.update(layer=layer.name, **extra)
    return _mvt(sql, params)


def issues_tile(
    z: int, x: int, y: int, reader: Reader, today: date, english: bool = False, **_
) -> bytes:
    """Return a tile of open problems; below zoom 12, counts per cell."""
    if z < 12 and mapq.tallies.usable(reader, None, None):
        # counted per village beforehand (issue_tallies), and kept until a problem is written
        params = _tile_params(z, x, y, reader, today, 0.0)
        return datacache.tiles.get(
            ("issues", z, x, y, reader.township_id, today),
            lambda: mapq.tallies.tile(params, tile_bounds_3857(z, x, y), CELLS, EXTENT),
        )
    layer = mapq.PointLayer(
        mapq.ISSUES.name,
        mapq.ISSUES.points.replace("__STATUS__", f"i.{mapq.OPEN}"),
        mapq.ISSUES.props,
        mapq.ISSUES.flags,
        mapq.ISSUES.cluster_below,
    )
    # kept until a problem or category is written (issues_version); who reads decides the rows
    key = ("issues", z, x, y, reader.township_id, reader.unit_id, english, today)
    return datacache.issue_tiles.get(
        key,
        lambda: point_tile(
            layer, z, x, y, reader, today, 12, statuses=None, category=None, english=english
        ),
    )


def stations_tile(z: int, x: int, y: int, reader: Reader, today: date, **_):
    """Return a tile of stations; below zoom 10, counts per cell."""
    return point_tile(mapq.STATIONS, z, x, y, reader, today, 10)


def followups_tile(
    z: int, x: int, y: int, reader: Reader, today: date, tz: str = "Asia/Shanghai", **_
):
    """Return a tile of look-backs (not done, or done lately); below zoom 12, counts per cell."""
    return point_tile(
        mapq.FOLLOWUPS,
        z,
        x,
        y,
        reader,
        today,
        12,
        tz=tz,
        done_since=today - timedelta(days=mapq.HISTORY_DAYS),
    )


def visits_tile(z: int, x: int, y: int, reader: Reader, today: date, **_):
    """Return a tile of visits: each a MultiPoint of its stops."""
    sql = f"""{mapq.VISIT_CTES}
        SELECT ST_AsMVT(q, 'visits', {EXTENT}, 'geom', 'id') FROM (
            SELECT id, {mapq.VISIT_PROPS}::jsonb AS props,
                   ST_AsMVTGeom(ST_Transform(geom, 3857), {TILE}, {EXTENT}, {BUFFER}, true)
                       AS geom
            FROM shaped WHERE geom IS NOT NULL
        ) q WHERE geom IS NOT NULL
    """
    params = _tile_params(
        z,
        x,
        y,
        reader,
        today,
        BUFFER / EXTENT,
        limit=mapq.MAX_FEATURES,
        held_since=today - timedelta(days=mapq.HISTORY_DAYS),
    )
    return _mvt(sql, params)


def townships_tile(z: int, x: int, y: int, reader: Reader, today: date, **_):
    """Return a tile of township boundaries with their coverage."""
    sql = f"""
        WITH t AS ({mapq.places_sql("township")}),
        {mapq.coverage_ctes("t")}
        SELECT ST_AsMVT(q, 'townships', {EXTENT}, 'geom') FROM (
            SELECT json_build_object('code', t.code, 'name', t.name, 'kind', t.kind,
                                     {mapq.COVERAGE_PROPS})::jsonb AS props,
                   ST_AsMVTGeom(ST_Transform(ST_SimplifyPreserveTopology(t.geom, :tolerance), 3857),
                                {TILE}, {EXTENT}, {BUFFER}, true) AS geom
            FROM t LEFT JOIN cov ON cov.township_id = t.id
                   LEFT JOIN plat ON plat.township_id = t.id
        ) q WHERE geom IS NOT NULL
    """
    params = _tile_params(
        z, x, y, reader, today, BUFFER / EXTENT, tolerance=mapq.pixel_degrees(z) / 4
    )
    return _mvt(sql, params)


#: villages are drawn from this zoom on
VILLAGE_TILE_MIN_ZOOM = 10


def villages_tile(z: int, x: int, y: int, reader: Reader, today: date, **_):
    """Return a tile of villages and communities (polygons, or office points); none below z10."""
    if z < VILLAGE_TILE_MIN_ZOOM:
        return b""
    sql = f"""
        WITH v AS ({mapq.places_sql("village")}),
        {mapq.served_cte("SELECT id FROM v")}
        SELECT ST_AsMVT(q, 'villages', {EXTENT}, 'geom') FROM (
            SELECT json_build_object('code', v.code, 'name', v.name, 'kind', v.kind,
                       'township', t.code, 'township_name', t.name,
                       'covered', served.area_id IS NOT NULL)::jsonb AS props,
                   ST_AsMVTGeom(ST_Transform(ST_SimplifyPreserveTopology(v.geom, :tolerance), 3857),
                                {TILE}, {EXTENT}, {BUFFER}, true) AS geom
            FROM v LEFT JOIN areas t ON t.id = v.parent_id
                   LEFT JOIN served ON served.area_id = v.id
        ) q WHERE geom IS NOT NULL
    """
    params = _tile_params(
        z, x, y, reader, today, BUFFER / EXTENT, tolerance=mapq.pixel_degrees(z) / 4
    )
    return _mvt(sql, params)


#: the layers of /tiles/<layer>/<z>/<x>/<y>.pbf; places change rarely, problems often
LAYERS = {
    "townships": TileLayer("townships", townships_tile, 300),
    "villages": TileLayer("villages", villages_tile, 300),
    "stations": TileLayer("stations", stations_tile, 300),
    "issues": TileLayer("issues", issues_tile, 30),
    "visits": TileLayer("visits", visits_tile, 60),
    "followups": TileLayer("followups", followups_tile, 60),
}
