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


def list_conditions(
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
) -> list:
    """Return the WHERE conditions of a list of issues: the user's `scope` and the filters."""
    from geoalchemy2 import functions as gf

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
    return conditions


def list_issues(scope: dict, *, limit: int = 50, offset: int = 0, **filters) -> tuple[list, int]:
    """Return (issues, total) newest first, within the user's `scope` and the filters."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import selectinload

    from fieldwatch.models import Issue

    conditions = list_conditions(scope, **filters)
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


def _utc_iso(column: str) -> str:
    """SQL: a timestamptz as Python's isoformat() of it in UTC (no fraction when it is 0)."""
    local = f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    return f"regexp_replace({local}, '\\.000000$', '') || '+00:00'"


def _utc_iso_or_null(column: str) -> str:
    return f"CASE WHEN {column} IS NOT NULL THEN {_utc_iso(column)} END"


#: the list's properties, name → SQL: the same as `GET /issues/<id>`
#: (present.issue_properties) but the photo list, which the list gives as the first
#: photo's `thumb_url`; names by scalar subqueries (no joins to plan), times as Python
#: writes them (UTC ISO 8601)
LIST_PROPERTIES: dict[str, str] = {
    "id": "i.id",
    "ref": "i.ref",
    "title": "i.title",
    "description": "i.description",
    "status": "i.status",
    "priority": "i.priority",
    "category": "(SELECT c.code FROM categories c WHERE c.id = i.category_id)",
    "category_name": "(SELECT c.name FROM categories c WHERE c.id = i.category_id)",
    "village_code": "(SELECT v.code FROM areas v WHERE v.id = i.area_id)",
    "village_name": "(SELECT v.name FROM areas v WHERE v.id = i.area_id)",
    "township_code": "(SELECT t.code FROM areas t WHERE t.id = i.township_id)",
    "township_name": "(SELECT t.name FROM areas t WHERE t.id = i.township_id)",
    "address": "i.address",
    "accuracy_m": "i.accuracy_m",
    "location_source": "i.location_source",
    "source": "i.source",
    "unit": "(SELECT u.code FROM units u WHERE u.id = i.unit_id)",
    "unit_name": "(SELECT u.name FROM units u WHERE u.id = i.unit_id)",
    "due_on": "i.due_on",
    "overdue": f"COALESCE(i.status IN {UNANSWERED!r} AND i.due_on < %(today)s, false)",
    "answer_class": "i.answer_class",
    "duplicate_of": "i.duplicate_of_id",
    "reopen_count": "COALESCE(i.reopen_count, 0)",
    "observed_at": _utc_iso_or_null("i.observed_at"),
    "created_at": _utc_iso_or_null("i.created_at"),
    "updated_at": _utc_iso_or_null("i.updated_at"),
    "accepted_at": _utc_iso_or_null("i.accepted_at"),
    "resolved_at": _utc_iso_or_null("i.resolved_at"),
    "closed_at": _utc_iso_or_null("i.closed_at"),
    "url": "%(detail_head)s || i.ref || %(detail_tail)s",
    "thumb_url": "%(thumb_head)s || (SELECT min(ph.id) FROM photos ph"
    " WHERE ph.issue_id = i.id) || %(thumb_tail)s",
}
#: the reporter's name and the resident's contact: only for `issues.view_contact`
CONTACT_PROPERTIES: dict[str, str] = {
    "reporter": "(SELECT r.name FROM users r WHERE r.id = i.reporter_id)",
    "contact_name": "i.contact_name",
    "contact_phone": "i.contact_phone",
}


def issue_features(
    conditions: list,
    *,
    limit: int,
    offset: int,
    today,
    contacts: bool,
    urls: dict,
    names: list[str] | None = None,
) -> list[str]:
    """Return up to `limit` issues newest first as GeoJSON Feature texts (PostGIS writes them).

    `GET /issues/<id>` has everything; a list has `LIST_PROPERTIES`, and with
    `contacts` the reporter's name and the resident's contact; `names` (already
    checked against those) keeps only the properties asked for. `urls` gives the
    detail and thumbnail URLs around the markers `{ref}` and `{photo}`. The page's ids
    come first from the filters alone, then only those rows are rendered.
    """
    from sqlalchemy import select

    from fieldwatch.counting import driver_sql
    from fieldwatch.models import Issue

    page = (
        select(Issue.id, Issue.created_at)
        .where(*conditions)
        .order_by(Issue.created_at.desc(), Issue.id.desc())
        .limit(limit)
        .offset(offset)
    )
    page_sql, params = driver_sql(page)
    columns = {**LIST_PROPERTIES, **(CONTACT_PROPERTIES if contacts else {})}
    if names is not None:
        columns = {name: columns[name] for name in names}
    properties = ", ".join(f"{sql} AS {name}" for name, sql in columns.items()) or "true AS _"
    sql = f"""
        SELECT '{{"type":"Feature","id":' || i.id
            || ',"geometry":' || ST_AsGeoJSON(i.location, 7)
            || ',"properties":' || row_to_json(p)::text || '}}'
        FROM ({page_sql}) page
        JOIN issues i ON i.id = page.id
        CROSS JOIN LATERAL (SELECT {properties}) p
        ORDER BY page.created_at DESC, page.id DESC
    """
    detail_head, _, detail_tail = urls["detail"].partition("{ref}")
    thumb_head, _, thumb_tail = urls["thumb"].partition("{photo}")
    params.update(
        today=today,
        detail_head=detail_head,
        detail_tail=detail_tail,
        thumb_head=thumb_head,
        thumb_tail=thumb_tail,
    )
    return [row[0] for row in db.session.connection().exec_driver_sql(sql, params)]
