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
      AND (CAST(:township_id AS integer) IS NULL OR i.township_id = :township_id)
      AND (CAST(:unit_id AS integer) IS NULL OR i.unit_id = :unit_id)
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
    township_id: int | None = None,
    unit_id: int | None = None,
) -> list:
    """Return open issues within `metres` of a point, nearest first, with distance_m.

    `township_id` / `unit_id` keep only the rows a scoped user may see
    (`policy.issue_rows`).
    """
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
            "township_id": township_id,
            "unit_id": unit_id,
        },
    ).all()


def possible_duplicates(issue, limit: int = 5, **scope) -> list:
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
        **scope,
    )


# --- the list (pages and API) ------------------------------------------------------
#: statuses in which an issue can be overdue: not yet answered
UNANSWERED = ("reported", "accepted", "in_progress")


def overdue_clause(today):
    """SQL condition: still unanswered and its due date has passed."""
    from fieldwatch.models import Issue

    return (Issue.status.in_(UNANSWERED)) & (Issue.due_on.is_not(None)) & (Issue.due_on < today)


def list_issues(
    scope: dict,
    *,
    statuses: list[str] | None = None,
    category_id: int | None = None,
    township_id: int | None = None,
    unit_id: int | None = None,
    overdue: bool = False,
    bbox: tuple[float, float, float, float] | None = None,
    today=None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list, int]:
    """Return (issues, total) newest first, within the user's `scope` and the filters."""
    from geoalchemy2 import functions as gf
    from sqlalchemy import func, select
    from sqlalchemy.orm import selectinload

    from fieldwatch.models import Issue

    conditions = []
    if "unit_id" in scope:
        conditions.append(Issue.unit_id == scope["unit_id"])
    if "township_id" in scope:
        conditions.append(Issue.township_id == scope["township_id"])
    if statuses:
        conditions.append(Issue.status.in_(statuses))
    if category_id is not None:
        conditions.append(Issue.category_id == category_id)
    if township_id is not None:
        conditions.append(Issue.township_id == township_id)
    if unit_id is not None:
        conditions.append(Issue.unit_id == unit_id)
    if overdue:
        conditions.append(overdue_clause(today))
    if bbox is not None:
        # && on the indexed column: the GiST index answers it
        conditions.append(Issue.location.op("&&")(gf.ST_MakeEnvelope(*bbox, 4326)))
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(Issue.title.ilike(like) | Issue.ref.ilike(like))
    total = db.session.scalar(select(func.count(Issue.id)).where(*conditions))
    rows = db.session.scalars(
        select(Issue)
        .where(*conditions)
        .options(
            selectinload(Issue.category),
            selectinload(Issue.township),
            selectinload(Issue.area),
            selectinload(Issue.unit),
            selectinload(Issue.reporter),
        )
        .order_by(Issue.created_at.desc(), Issue.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def first_photos(issue_ids: list[int]) -> dict[int, int]:
    """Return {issue_id: id of its first photo} for the given issues, in one query."""
    if not issue_ids:
        return {}
    rows = db.session.execute(
        text("SELECT issue_id, min(id) FROM photos WHERE issue_id = ANY(:ids) GROUP BY issue_id"),
        {"ids": list(issue_ids)},
    ).all()
    return {issue_id: photo_id for issue_id, photo_id in rows}
