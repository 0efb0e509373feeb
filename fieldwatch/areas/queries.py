"""Reads about places, including point-in-polygon on every write."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from fieldwatch.extensions import db


@dataclass(frozen=True)
class Placement:
    """Where a point lies: its village (or None) and township (or None)."""

    village_id: int | None
    township_id: int | None


# The pieces of subdivided boundaries (area_parts, at most 256 vertices each, kept by
# a trigger) rather than whole boundaries: a real township has thousands of vertices,
# and one ST_Intersects against all of them costs ~1.4 ms where a piece costs ~0.1 ms.
# Ordered by code so that a point on a shared edge always gets the same answer.
_CONTAINING = text(
    """
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
    village AS (
        SELECT a.id, a.parent_id FROM area_parts p JOIN areas a ON a.id = p.area_id, pt
        WHERE p.level = 'village' AND ST_Intersects(p.boundary, pt.g)
        ORDER BY a.code LIMIT 1
    ),
    township AS (
        SELECT a.id FROM area_parts p JOIN areas a ON a.id = p.area_id, pt
        WHERE p.level = 'township' AND ST_Intersects(p.boundary, pt.g)
        ORDER BY a.code LIMIT 1
    )
    SELECT
        (SELECT id FROM village) AS village_id,
        COALESCE((SELECT parent_id FROM village), (SELECT id FROM township)) AS township_id
    """
)

# Where a township's villages have only office points (or the point falls in a
# gap between village polygons): the nearest office in that township. The KNN
# operator uses the GiST index on location.
_NEAREST_OFFICE = text(
    """
    SELECT a.id FROM areas a
    WHERE a.level = 'village' AND a.parent_id = :township AND a.location IS NOT NULL
    ORDER BY a.location <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
    LIMIT 1
    """
)


def area_containing(lon: float, lat: float) -> Placement:
    """Return the village and township at a point (DESIGN.md's rule for point-only villages)."""
    row = db.session.execute(_CONTAINING, {"lon": lon, "lat": lat}).one()
    village_id, township_id = row.village_id, row.township_id
    if village_id is None and township_id is not None:
        village_id = db.session.scalar(
            _NEAREST_OFFICE, {"township": township_id, "lon": lon, "lat": lat}
        )
    return Placement(village_id, township_id)


# --- lists and lookups --------------------------------------------------------------
_AREA_ROW = """
    SELECT a.id, a.code, a.name, a.level, a.kind, p.code AS parent_code,
           a.boundary IS NOT NULL AS has_boundary,
           ST_X(a.location) AS lon, ST_Y(a.location) AS lat
    FROM areas a LEFT JOIN areas p ON p.id = a.parent_id
"""


def area_item(row) -> dict:
    """Return the API shape of an area row: {code, name, level, kind, parent_code, has_boundary}."""
    return {
        "code": row.code,
        "name": row.name,
        "level": row.level,
        "kind": row.kind,
        "parent_code": row.parent_code,
        "has_boundary": bool(row.has_boundary),
    }


def list_areas(
    level: str | None = None, parent_code: str | None = None, limit: int = 500, offset: int = 0
) -> list:
    """Return areas by code, optionally of one level and/or under one parent (limit + 1 rows)."""
    sql = (
        _AREA_ROW
        + """
    WHERE (CAST(:level AS text) IS NULL OR a.level = :level)
      AND (CAST(:parent AS text) IS NULL OR p.code = :parent)
    ORDER BY a.code LIMIT :limit OFFSET :offset
    """
    )
    params = {"level": level, "parent": parent_code, "limit": limit + 1, "offset": offset}
    return db.session.execute(text(sql), params).all()


def area_by_code(code: str):
    """Return one area row by code, or None."""
    return db.session.execute(text(_AREA_ROW + " WHERE a.code = :code"), {"code": code}).first()


def areas_at(lon: float, lat: float) -> tuple:
    """Return the (village row or None, township row or None) at a point."""
    placed = area_containing(lon, lat)
    rows = {}
    ids = [i for i in (placed.village_id, placed.township_id) if i is not None]
    if ids:
        sql = _AREA_ROW + " WHERE a.id = ANY(:ids)"
        rows = {r.id: r for r in db.session.execute(text(sql), {"ids": ids})}
    return rows.get(placed.village_id), rows.get(placed.township_id)


def township_summaries() -> list:
    """Return every township with its counts of villages, communities and village boundaries."""
    sql = """
    SELECT t.code, t.name, t.kind, t.boundary IS NOT NULL AS has_boundary,
           count(v.id) FILTER (WHERE v.kind IS DISTINCT FROM 'community') AS villages,
           count(v.id) FILTER (WHERE v.kind = 'community') AS communities,
           count(v.id) FILTER (WHERE v.boundary IS NOT NULL) AS with_boundary,
           count(v.id) FILTER (WHERE v.boundary IS NULL AND v.location IS NOT NULL) AS points_only
    FROM areas t LEFT JOIN areas v ON v.parent_id = t.id AND v.level = 'village'
    WHERE t.level = 'township'
    GROUP BY t.id ORDER BY t.code
    """
    return db.session.execute(text(sql)).all()


def places_of(township_code: str) -> list:
    """Return the villages and communities of a township, by code."""
    sql = _AREA_ROW + " WHERE p.code = :code AND a.level = 'village' ORDER BY a.code"
    return db.session.execute(text(sql), {"code": township_code}).all()


def outlines(level: str, parent_code: str | None = None, tolerance: float = 0.0005) -> list:
    """Return (code, name, GeoJSON geometry text) of areas with a boundary, simplified for maps.

    Simplified in degrees (0.0005 is about 50 m) and written with 5 decimals (about 1 m),
    which keeps a county's townships to a few tens of kilobytes.
    """
    sql = """
    SELECT a.code, a.name,
           ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.boundary, :tolerance), 5) AS geometry
    FROM areas a LEFT JOIN areas p ON p.id = a.parent_id
    WHERE a.level = :level AND a.boundary IS NOT NULL
      AND (CAST(:parent AS text) IS NULL OR p.code = :parent)
    ORDER BY a.code
    """
    params = {"level": level, "parent": parent_code, "tolerance": tolerance}
    return db.session.execute(text(sql), params).all()


def extent(level: str = "township") -> tuple[float, float, float, float] | None:
    """Return the (minlon, minlat, maxlon, maxlat) of all areas of a level, or None."""
    row = db.session.execute(
        text(
            "SELECT ST_XMin(e) x0, ST_YMin(e) y0, ST_XMax(e) x1, ST_YMax(e) y1 FROM "
            "(SELECT ST_Extent(COALESCE(boundary, location)) e FROM areas WHERE level = :level) s"
        ),
        {"level": level},
    ).one()
    return None if row.x0 is None else (row.x0, row.y0, row.x1, row.y1)
