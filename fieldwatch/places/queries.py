"""A place's history: every problem, visit and look-back within a radius, oldest first."""

from __future__ import annotations

import math

from sqlalchemy import text

from fieldwatch.extensions import db

DEFAULT_RADIUS_M = 100
MAX_RADIUS_M = 1000


def _envelope(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    """A lon/lat box that surely holds the circle (the GiST prefilter before ST_DWithin)."""
    dlat = metres / 110_000.0
    dlon = metres / (111_000.0 * max(math.cos(math.radians(min(abs(lat), 89.0))), 0.01))
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


# Each branch finds its rows with `&&` on an indexed point column first (the box),
# then the exact geodesic test; a geography cast alone would scan every row.
_HISTORY = """
WITH here AS (
    SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography AS g,
           ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326) AS box
), near_issues AS (
    SELECT i.* FROM issues i, here
    WHERE i.location && here.box AND ST_DWithin(i.location::geography, here.g, :radius)
      AND (CAST(:scope_township AS integer) IS NULL OR i.township_id = :scope_township)
      AND (CAST(:scope_unit AS integer) IS NULL OR i.unit_id = :scope_unit)
), near_visits AS (
    SELECT v.id, min(ST_Distance(s.location::geography, here.g)) AS distance_m,
           (array_agg(ST_X(s.location) ORDER BY s.position))[1] AS lon,
           (array_agg(ST_Y(s.location) ORDER BY s.position))[1] AS lat
    FROM visit_stops s JOIN visits v ON v.id = s.visit_id, here
    WHERE s.location && here.box AND ST_DWithin(s.location::geography, here.g, :radius)
      AND v.status = 'held' AND CAST(:with_visits AS boolean)
      AND (CAST(:scope_township AS integer) IS NULL OR v.township_id = :scope_township
           OR s.township_id = :scope_township)
    GROUP BY v.id
)
SELECT 'issue' AS type, i.id, i.created_at AS at, i.ref, i.title, i.status,
       NULL AS finding, NULL AS on_site, NULL AS kind,
       ST_X(i.location) AS lon, ST_Y(i.location) AS lat,
       ST_Distance(i.location::geography, here.g) AS distance_m, i.id AS issue_id
FROM near_issues i, here
UNION ALL
SELECT 'followup', f.id, f.done_at, i.ref, i.title, i.status,
       f.finding, f.on_site, f.kind,
       ST_X(i.location), ST_Y(i.location),
       ST_Distance(i.location::geography, here.g), i.id
FROM followups f JOIN near_issues i ON i.id = f.issue_id, here
WHERE f.done_at IS NOT NULL
UNION ALL
SELECT 'visit', v.id,
       (CAST(COALESCE(v.held_on, v.planned_for) AS timestamp) AT TIME ZONE :tz),
       NULL, v.title, v.status, NULL, NULL, v.form,
       nv.lon, nv.lat, nv.distance_m, NULL
FROM near_visits nv JOIN visits v ON v.id = nv.id
UNION ALL
SELECT 'followup', f.id, f.done_at, NULL, v.title, v.status, f.finding, f.on_site, f.kind,
       nv.lon, nv.lat, nv.distance_m, NULL
FROM followups f JOIN near_visits nv ON nv.id = f.visit_id JOIN visits v ON v.id = f.visit_id
WHERE f.done_at IS NOT NULL AND f.issue_id IS NULL
ORDER BY at, type, id
LIMIT :limit OFFSET :offset
"""


def history(
    lon: float,
    lat: float,
    radius_m: float,
    *,
    scope_township: int | None = None,
    scope_unit: int | None = None,
    with_visits: bool = True,
    tz: str = "Asia/Shanghai",
    limit: int = 200,
    offset: int = 0,
) -> tuple[list, bool]:
    """Return (rows, more): what happened within `radius_m` of a point, oldest first."""
    x1, y1, x2, y2 = _envelope(lon, lat, radius_m)
    rows = db.session.execute(
        text(_HISTORY),
        {
            "lon": lon,
            "lat": lat,
            "radius": radius_m,
            "x1": x1,
            "y1": y1,
            "x2": x2,
            "y2": y2,
            "scope_township": scope_township,
            "scope_unit": scope_unit,
            "with_visits": with_visits,
            "tz": tz,
            "limit": limit + 1,
            "offset": offset,
        },
    ).all()
    return rows[:limit], len(rows) > limit
