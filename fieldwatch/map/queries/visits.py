"""The visits layer: planned visits and those held lately, each a MultiPoint of its stops."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from fieldwatch.extensions import db
from fieldwatch.map.queries.base import (
    ENV,
    HISTORY_DAYS,
    VISIT_SCOPE,
    LayerResult,
    Reader,
    feature,
    view_params,
)

#: planned visits and those held lately with a stop (or their station) in the view
VISIT_CTES = f"""
    WITH hit AS (
        SELECT s.visit_id AS id FROM visit_stops s WHERE s.location && {ENV}
        UNION
        SELECT v.id FROM stations st JOIN visits v ON v.station_id = st.id
        WHERE st.location && {ENV}
          AND NOT EXISTS (SELECT 1 FROM visit_stops s WHERE s.visit_id = v.id)
    ),
    chosen AS (
        SELECT v.* FROM visits v JOIN hit ON hit.id = v.id
        WHERE (v.status = 'planned' OR (v.status = 'held' AND v.held_on >= :held_since))
          AND ({VISIT_SCOPE})
        ORDER BY v.planned_for DESC, v.id DESC
        LIMIT :limit + 1
    ),
    shaped AS (
        SELECT v.id, v.title, v.form, v.status, v.planned_for, v.held_on,
               COALESCE(stops.geom, ST_Multi(st.location)) AS geom,
               COALESCE(stops.n, 0) AS stops
        FROM chosen v
        LEFT JOIN LATERAL (
            SELECT ST_Multi(ST_Collect(s.location ORDER BY s.position)) AS geom, count(*) AS n
            FROM visit_stops s WHERE s.visit_id = v.id
        ) stops ON true
        LEFT JOIN stations st ON st.id = v.station_id
    )"""
VISIT_PROPS = (
    "json_build_object('id', id, 'title', title, 'form', form, 'status', status, "
    "'planned_for', planned_for, 'held_on', held_on, 'stops', stops)"
)
_VISITS = f"""{VISIT_CTES}
    SELECT COALESCE(json_agg({
    feature("id", "geom", VISIT_PROPS)
} ORDER BY planned_for DESC, id DESC) FILTER (WHERE rn <= :limit), '[]')::text AS features,
           count(*) > :limit AS more
    FROM (SELECT shaped.*, row_number() OVER (ORDER BY planned_for DESC, id DESC) AS rn
          FROM shaped WHERE geom IS NOT NULL) q
"""


def visits_in_view(bbox, zoom: int, reader: Reader, today: date, limit: int = 500, **_):
    """Return planned visits and those held lately with a stop (or station) in the view.

    Each is a MultiPoint of its stops in route order (its station's point when it
    has no stops), like the OGC `visits` collection.
    """
    params = view_params(
        bbox, zoom, reader, today, limit=limit, held_since=today - timedelta(days=HISTORY_DAYS)
    )
    row = db.session.execute(text(_VISITS), params).one()
    return LayerResult(row.features, "points", bool(row.more))
