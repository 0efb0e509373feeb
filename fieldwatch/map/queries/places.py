"""Townships (with coverage) and villages (served or not) in the view; the map's first view."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from fieldwatch.extensions import db
from fieldwatch.map.queries.base import (
    ENV,
    MAX_FEATURES,
    STATION_OPEN,
    VILLAGE_MIN_ZOOM,
    LayerResult,
    Reader,
    digits_for,
    feature,
    pixel_degrees,
    view_params,
)


def served_cte(villages: str) -> str:
    """Return the CTE `served`: which of `villages` (a query of ids) an open station serves today.

    DESIGN.md's coverage rule: listed in the `serves` of a station open on the date.
    """
    return f"""
    served AS (
        SELECT DISTINCT ss.area_id FROM station_serves ss JOIN stations s ON s.id = ss.station_id
        WHERE ss.area_id IN ({villages}) AND {STATION_OPEN}
    )"""


def coverage_ctes(places: str) -> str:
    """Return CTEs `served`, `cov` (villages, covered per township) and `plat` for `places`."""
    villages = (
        f"SELECT x.id FROM areas x WHERE x.level = 'village' "
        f"AND x.parent_id IN (SELECT id FROM {places})"
    )
    return f"""{served_cte(villages)},
    cov AS (
        SELECT v.parent_id AS township_id, count(*) AS villages,
               count(served.area_id) AS covered
        FROM areas v LEFT JOIN served ON served.area_id = v.id
        WHERE v.level = 'village' AND v.parent_id IN (SELECT id FROM {places})
        GROUP BY v.parent_id
    ),
    plat AS (
        SELECT DISTINCT s.township_id FROM stations s
        WHERE s.township_id IN (SELECT id FROM {places}) AND {STATION_OPEN}
    )"""


COVERAGE_PROPS = """'villages', COALESCE(cov.villages, 0), 'covered', COALESCE(cov.covered, 0),
    'coverage_pct', CASE WHEN cov.villages > 0
                         THEN round(100.0 * cov.covered / cov.villages, 1) END,
    'has_platform', plat.township_id IS NOT NULL"""


def places_sql(level: str) -> str:
    """Places of `level` in the view: polygons where they have one, else the office point."""
    return f"""
        SELECT a.id, a.code, a.name, a.kind, a.parent_id, a.boundary AS geom
        FROM areas a WHERE a.level = '{level}' AND a.boundary && {ENV}
        UNION ALL
        SELECT a.id, a.code, a.name, a.kind, a.parent_id, a.location
        FROM areas a WHERE a.level = '{level}' AND a.boundary IS NULL AND a.location && {ENV}
    """


def townships_in_view(bbox, zoom: int, reader: Reader, today: date, **_) -> LayerResult:
    """Return the townships in the view with their coverage (simplified to the zoom)."""
    digits = digits_for(zoom)
    geom = "ST_SimplifyPreserveTopology(t.geom, :tolerance)"
    props = f"json_build_object('code', t.code, 'name', t.name, 'kind', t.kind, {COVERAGE_PROPS})"
    sql = f"""
        WITH t AS ({places_sql("township")}),
        {coverage_ctes("t")}
        SELECT COALESCE(json_agg({feature("t.code", geom, props, digits)} ORDER BY t.code),
                        '[]')::text AS features
        FROM t LEFT JOIN cov ON cov.township_id = t.id LEFT JOIN plat ON plat.township_id = t.id
    """
    params = view_params(bbox, zoom, reader, today, tolerance=pixel_degrees(zoom))
    return LayerResult(db.session.execute(text(sql), params).scalar_one(), "all")


def villages_in_view(bbox, zoom: int, reader: Reader, today: date, **_) -> LayerResult:
    """Return villages and communities in the view, with whether a station serves them.

    Below VILLAGE_MIN_ZOOM there are too many to draw; the answer is empty.
    """
    if zoom < VILLAGE_MIN_ZOOM:
        return LayerResult("[]", "hidden")
    digits = digits_for(zoom)
    geom = "ST_SimplifyPreserveTopology(v.geom, :tolerance)"
    props = """json_build_object('code', v.code, 'name', v.name, 'kind', v.kind,
        'township', t.code, 'township_name', t.name, 'covered', served.area_id IS NOT NULL)"""
    sql = f"""
        WITH v AS ({places_sql("village")} LIMIT :limit + 1),
        {served_cte("SELECT id FROM v")},
        numbered AS (SELECT v.*, row_number() OVER (ORDER BY v.code) AS rn FROM v)
        SELECT COALESCE(json_agg({feature("v.code", geom, props, digits)} ORDER BY v.code)
                        FILTER (WHERE v.rn <= :limit), '[]')::text AS features,
               count(*) > :limit AS more
        FROM numbered v LEFT JOIN areas t ON t.id = v.parent_id
             LEFT JOIN served ON served.area_id = v.id
    """
    params = view_params(
        bbox, zoom, reader, today, tolerance=pixel_degrees(zoom), limit=MAX_FEATURES
    )
    row = db.session.execute(text(sql), params).one()
    return LayerResult(row.features, "all", bool(row.more))


def initial_extent(township_id: int | None = None) -> tuple[float, float, float, float] | None:
    """Return the (west, south, east, north) of the user's township, else of all townships."""
    row = db.session.execute(
        text(
            """
            SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n
            FROM (SELECT ST_Extent(COALESCE(boundary, location)) AS e FROM areas
                  WHERE level = 'township'
                    AND (CAST(:township AS integer) IS NULL OR id = :township)) x
            """
        ),
        {"township": township_id},
    ).one()
    if row.w is None:
        return None
    return row.w, row.s, row.e, row.n
