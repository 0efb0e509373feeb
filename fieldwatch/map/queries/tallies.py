"""Low-zoom problem counts from `issue_tallies` (open problems per village, kept by a trigger).

At the zooms where the map shows counts rather than points (township counts,
clusters up to zoom 12, tiles below zoom 12) summing 30,000 village rows costs a
few ms where counting the ~200,000 open problems of a province costs 0.5-3 s.
A village's problems stand at their centre (the tally keeps the sums of their
coordinates), so a view or a cell takes a village whole, by its centre: at these
zooms a village is a cell or less (about 1-2 km; a zoom-12 cell is 2 km).

Only the default question goes this way: open problems, any category, read by
someone whose scope is a township or the whole county (the tallies are per
township, so a township-scoped reader sums their own township). Unit staff
(scoped by department), a category filter or other statuses take the live query.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from fieldwatch import datacache
from fieldwatch.extensions import db
from fieldwatch.map.queries.base import Reader, feature

#: tallies serve the grid (cluster) mode up to this zoom; further in, points are counted live
MAX_GRID_ZOOM = 12
#: Web Mercator: the earth's radius used by EPSG:3857, metres
R = 6378137.0

#: each tally row with its centre, overdue count and scope (the view's filter comes after)
ROWS = """
    SELECT t.township_id, t.village_id, t.n, t.reopened, t.sx, t.sy,
           -- NULLIF: the planner may test the view before `n > 0` (rows whose last one left)
           t.sx / NULLIF(t.n, 0) AS x, t.sy / NULLIF(t.n, 0) AS y,
           -- `due` is sorted: the due dates before today, by binary search
           width_bucket(CAST(:today AS date) - 1, t.due) AS overdue
    FROM issue_tallies t
    WHERE t.n > 0
      AND (CAST(:scope_township AS integer) IS NULL OR t.township_id = :scope_township)
"""
OPEN = "('reported', 'accepted', 'in_progress', 'resolved')"
IN_VIEW = "x BETWEEN :x1 AND :x2 AND y BETWEEN :y1 AND :y2"


def usable(reader: Reader, status: str | None, category: str | None) -> bool:
    """Whether the tallies answer this question (open problems, no category, not unit staff)."""
    return reader.role != "unit" and (not status or status == "open") and not category


def township_markers() -> dict[int, tuple[str, str]]:
    """Return each township's id -> (code, the JSON of its code, name and marker point).

    Kept (datacache, `coverage_version`, which any write to `areas` moves): the
    province view would otherwise read 1,500 townships' names and points and build
    their GeoJSON on every request (~25 ms of the ~40).
    """

    def make() -> dict[int, tuple[str, str]]:
        rows = db.session.execute(
            text(
                "SELECT id, code, name, "
                "ST_AsGeoJSON(COALESCE(location, ST_PointOnSurface(boundary)), 6) AS geom "
                "FROM areas WHERE level = 'township'"
            )
        )
        return {
            r.id: (r.geom, json.dumps(r.code), json.dumps(r.name, ensure_ascii=False)) for r in rows
        }

    return datacache.coverage.get(("township markers",), make)


def townships(params: dict) -> str:
    """Return the township count features for the view, as the live query shapes them."""
    sql = f"""
        WITH r AS ({ROWS})
        SELECT township_id, sum(n)::int AS n, sum(overdue)::int AS overdue,
               sum(reopened)::int AS reopened, sum(sx) / sum(n) AS x, sum(sy) / sum(n) AS y
        FROM r WHERE {IN_VIEW} GROUP BY township_id
        ORDER BY n DESC
    """
    markers = township_markers()
    features = []
    for g in db.session.execute(text(sql), params):
        geom, code, name = markers.get(g.township_id, (None, "null", "null"))
        if geom is None:  # no township, or one with neither office nor boundary: the centre
            geom = json.dumps({"type": "Point", "coordinates": [round(g.x, 6), round(g.y, 6)]})
        features.append(
            f'{{"type": "Feature", "id": {code}, "geometry": {geom}, "properties": '
            f'{{"cluster": true, "count": {g.n}, "overdue": {g.overdue}, '
            f'"reopened": {g.reopened}, "township": {code}, "name": {name}}}}}'
        )
    return "[" + ", ".join(features) + "]"


def grid(params: dict, lone_sql) -> str:
    """Return the cluster features for the view: villages grouped by screen cell.

    `lone_sql(only)` is the layer's points query limited to the ids `only` selects:
    a cell holding a single problem shows that problem, as the live query does.
    """
    props = (
        "json_build_object('cluster', true, 'count', c.n, 'overdue', c.overdue, "
        "'reopened', c.reopened)"
    )
    cluster = feature("NULL", "ST_SetSRID(ST_MakePoint(c.x, c.y), 4326)", props)
    # the one open problem of a village holding one (by the area_id index)
    one_id = f"""CASE WHEN c.village_id > 0
        THEN (SELECT i.id FROM issues i WHERE i.area_id = c.village_id AND i.status IN {OPEN}
                AND COALESCE(i.township_id, 0) = c.township_id LIMIT 1)
        ELSE (SELECT i.id FROM issues i WHERE i.area_id IS NULL AND i.status IN {OPEN}
                AND i.township_id IS NOT DISTINCT FROM NULLIF(c.township_id, 0) LIMIT 1) END"""
    sql = f"""
        WITH r AS ({ROWS}),
        groups AS (
            SELECT sum(n)::int AS n, sum(overdue)::int AS overdue, sum(reopened)::int AS reopened,
                   sum(sx) / sum(n) AS x, sum(sy) / sum(n) AS y,
                   min(township_id) AS township_id, min(village_id) AS village_id
            FROM r WHERE {IN_VIEW}
            GROUP BY floor(x / :cx)::int, floor(y / :cy)::int
        ),
        cells AS MATERIALIZED (
            SELECT c.*, CASE WHEN c.n = 1 THEN {one_id} END AS one_id FROM groups c
        ),
        lone AS ({lone_sql("SELECT one_id FROM cells WHERE one_id IS NOT NULL")})
        SELECT COALESCE(json_agg(
                   CASE WHEN p.id IS NOT NULL
                        THEN {feature("p.id", "p.geom", "p.props")} ELSE {cluster} END
                   ORDER BY c.n DESC), '[]')::text
        FROM cells c LEFT JOIN lone p ON p.id = c.one_id
    """
    return db.session.execute(text(sql), params).scalar()


def tile(params: dict, bounds: tuple[float, float, float, float], cells: int, extent: int) -> bytes:
    """Return an issues tile of counts per cell (cells x cells), villages by their centre.

    A centre belongs to the tile whose half-open Mercator box holds it, so no
    village is counted in two tiles.
    """
    xmin, ymin, xmax, ymax = bounds
    mx = f"({R} * radians(x))"
    my = f"({R} * ln(tan(pi() / 4 + radians(y) / 2)))"
    sql = f"""
        WITH r AS ({ROWS}),
        m AS (
            SELECT *, {mx} AS mx, {my} AS my FROM r
            WHERE {IN_VIEW}
        ),
        cells AS (
            SELECT sum(n)::int AS n, sum(overdue)::int AS overdue, sum(reopened)::int AS reopened,
                   sum(mx * n) / sum(n) AS cx, sum(my * n) / sum(n) AS cy
            FROM m
            WHERE mx >= :mxmin AND mx < :mxmax AND my > :mymin AND my <= :mymax
            GROUP BY floor((mx - :mxmin) / :cell)::int, floor((my - :mymin) / :cell)::int
        )
        SELECT ST_AsMVT(q, 'issues', {extent}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(cx, cy), 3857),
                                ST_TileEnvelope(:z, :x, :y), {extent}, 0, true) AS geom,
                   n AS count, overdue, reopened, true AS cluster
            FROM cells
        ) q
    """
    params = dict(
        params,
        mxmin=xmin,
        mxmax=xmax,
        mymin=ymin,
        mymax=ymax,
        cell=(xmax - xmin) / cells,
    )
    data = db.session.execute(text(sql), params).scalar()
    return bytes(data) if data else b""
