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


_CONTAINING = text(
    """
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
    village AS (
        SELECT a.id, a.parent_id FROM areas a, pt
        WHERE a.level = 'village' AND a.boundary IS NOT NULL AND ST_Intersects(a.boundary, pt.g)
        LIMIT 1
    ),
    township AS (
        SELECT a.id FROM areas a, pt
        WHERE a.level = 'township' AND a.boundary IS NOT NULL AND ST_Intersects(a.boundary, pt.g)
        LIMIT 1
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
