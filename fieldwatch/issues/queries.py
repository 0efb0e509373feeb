"""Reads about issues, including the spatial ones (nearby, duplicates)."""

from __future__ import annotations

import math

from sqlalchemy import text

from fieldwatch.extensions import db

#: open = not closed, rejected or duplicate
OPEN_SQL = "i.status NOT IN ('closed', 'rejected', 'duplicate')"


def _envelope(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    """A lon/lat box that surely holds the circle (index prefilter before the exact test)."""
    dlat = metres / 110_000.0
    dlon = metres / (111_000.0 * max(math.cos(math.radians(min(abs(lat), 89.0))), 0.01))
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


_NEAR = text(
    f"""
    SELECT i.id, i.ref, i.title, i.status, i.category_id,
           ST_X(i.location) AS lon, ST_Y(i.location) AS lat,
           ST_Distance(i.location::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m,
           (SELECT p.id FROM photos p WHERE p.issue_id = i.id ORDER BY p.id LIMIT 1) AS photo_id
    FROM issues i
    WHERE i.location && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)
      AND ST_DWithin(i.location::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :metres)
      AND {OPEN_SQL}
      AND (CAST(:category_id AS integer) IS NULL OR i.category_id = :category_id)
      AND (CAST(:exclude_id AS integer) IS NULL OR i.id <> :exclude_id)
    ORDER BY distance_m, i.id
    LIMIT :limit
    """
)


def issues_near(
    lon: float,
    lat: float,
    metres: float,
    category_id: int | None = None,
    exclude_id: int | None = None,
    limit: int = 50,
) -> list:
    """Return open issues within `metres` of a point, nearest first, with distance_m."""
    x1, y1, x2, y2 = _envelope(lon, lat, metres)
    return db.session.execute(
        _NEAR,
        {
            "lon": lon,
            "lat": lat,
            "metres": metres,
            "x1": x1,
            "y1": y1,
            "x2": x2,
            "y2": y2,
            "category_id": category_id,
            "exclude_id": exclude_id,
            "limit": limit,
        },
    ).all()


def possible_duplicates(issue, limit: int = 5) -> list:
    """Return up to `limit` open issues of the same category within its duplicate radius."""
    from fieldwatch.geo import lonlat_of

    lon, lat = lonlat_of(issue.location)
    return issues_near(
        lon,
        lat,
        issue.category.duplicate_radius_m,
        issue.category_id,
        exclude_id=issue.id,
        limit=limit,
    )
