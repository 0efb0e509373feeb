"""Reads about visits: lists by the reader's rights, the planner's candidates and
batches (PostGIS clustering), a visit's route, and station activity."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from shapely import wkt as shapely_wkt
from shapely.geometry import shape
from sqlalchemy import and_, false, func, or_, select, text, true
from sqlalchemy.orm import selectinload

from fieldwatch import clock
from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db
from fieldwatch.geo import lonlat_of
from fieldwatch.models import Area, Station, Unit, Visit
from fieldwatch.visits import routing

STAFF = ("admin", "leader", "supervisor")
#: the planner shows at most this many candidates per request (a `next` link pages on)
CANDIDATE_LIMIT = 500
#: batching looks at no more candidates than this (a township has far fewer)
BATCH_LIMIT = 3000
MAX_AREA_VERTICES = 2000


# --- a visit's route --------------------------------------------------------------------
def route_of(visit: Visit) -> dict:
    """Return DESIGN.md's route of a visit: its stops in the saved order from its start."""
    stops = []
    for stop in sorted(visit.stops, key=lambda s: s.position):
        lon, lat = lonlat_of(stop.location)
        stops.append({"issue_id": stop.issue_id, "lon": lon, "lat": lat})
    start = lonlat_of(visit.start_location) if visit.start_location is not None else None
    return routing.route(stops, start)


# --- who sees which visits ----------------------------------------------------------------
def visible_to(user):
    """Return a SQL condition: the visits `user` may see (the policy's visits.view, as SQL)."""
    if user.role in STAFF:
        if user.township_id is None:
            return true()
        return or_(Visit.township_id == user.township_id, Visit.leader_id == user.id)
    if user.role == "unit":
        code = db.session.scalar(select(Unit.code).where(Unit.id == user.unit_id))
        if code is None:
            return false()
        return Visit.participants.contains({"units": [code]})
    return or_(
        Visit.leader_id == user.id,
        Visit.participants.contains({"members": [user.id]}),
    )


@dataclass
class VisitFilter:
    status: str | None = None
    form: str | None = None
    township: str | None = None
    month: date | None = None
    station_id: int | None = None
    leader_id: int | None = None
    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    extra: dict = field(default_factory=dict)


def visit_day():
    """The day a visit is reckoned on: held on, else planned for."""
    return func.coalesce(Visit.held_on, Visit.planned_for)


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


def visits_query(user, filters: VisitFilter):
    """Return a select of the visits `user` may see that match `filters` (newest day first)."""
    query = select(Visit).where(visible_to(user))
    if filters.status:
        query = query.where(Visit.status == filters.status)
    if filters.form:
        query = query.where(Visit.form == filters.form)
    if filters.township:
        township_id = select(Area.id).where(Area.code == filters.township).scalar_subquery()
        query = query.where(Visit.township_id == township_id)
    if filters.station_id:
        query = query.where(Visit.station_id == filters.station_id)
    if filters.leader_id:
        query = query.where(Visit.leader_id == filters.leader_id)
    if filters.q:
        query = query.where(Visit.title.ilike(f"%{filters.q}%"))
    start, end = filters.date_from, filters.date_to
    if filters.month:
        start, end = month_bounds(filters.month)
    if start:
        query = query.where(visit_day() >= start)
    if end:
        query = query.where(visit_day() <= end)
    return query.order_by(visit_day().desc(), Visit.id.desc())


def list_visits(user, filters: VisitFilter, limit: int = 50, offset: int = 0) -> list[Visit]:
    """Return one page of the visits `user` may see (their stops loaded with them)."""
    query = visits_query(user, filters).options(selectinload(Visit.stops))
    return list(db.session.scalars(query.limit(limit).offset(offset)))


def month_calendar(user, month: date, filters: VisitFilter) -> dict:
    """Return {weeks: [[day or None, ...]], by_day: {date: [Visit]}} for a month page."""
    filters.month = month
    query = visits_query(user, filters).options(
        selectinload(Visit.stops), selectinload(Visit.leader)
    )
    visits = list(db.session.scalars(query.limit(1000)))
    by_day: dict[date, list[Visit]] = {}
    for visit in sorted(visits, key=lambda v: (v.held_on or v.planned_for, v.id)):
        by_day.setdefault(visit.held_on or visit.planned_for, []).append(visit)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    return {
        "weeks": [[d if d.month == month.month else None for d in week] for week in weeks],
        "by_day": by_day,
        "visits": visits,
    }


# --- stations ---------------------------------------------------------------------------
def visits_at_station(station_id: int, statuses=("held",), limit: int = 50) -> list[Visit]:
    """Return the visits at a station (held ones by default), newest first."""
    query = (
        select(Visit)
        .where(Visit.station_id == station_id, Visit.status.in_(statuses))
        .order_by(visit_day().desc(), Visit.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def last_activity(station_id: int) -> date | None:
    """Return the day of the last visit held at the station, or None."""
    return db.session.scalar(
        select(func.max(Visit.held_on)).where(
            Visit.station_id == station_id, Visit.status == "held"
        )
    )


def stations_without_activity(days: int = 90, as_of: date | None = None) -> list:
    """Return the stations open on `as_of` with no visit held there in the `days` up to it.

    Rows: id, name, township_id, last_held_on (None if never).
    """
    as_of = as_of or clock.today()
    since = as_of - timedelta(days=days)
    last_held = (
        select(func.max(Visit.held_on))
        .where(Visit.station_id == Station.id, Visit.status == "held", Visit.held_on <= as_of)
        .correlate(Station)
        .scalar_subquery()
    )
    recent = (
        select(Visit.id)
        .where(
            Visit.station_id == Station.id,
            Visit.status == "held",
            Visit.held_on > since,
            Visit.held_on <= as_of,
        )
        .correlate(Station)
        .exists()
    )
    query = (
        select(Station.id, Station.name, Station.township_id, last_held.label("last_held_on"))
        .where(
            or_(Station.established_on.is_(None), Station.established_on <= as_of),
            or_(Station.closed_on.is_(None), Station.closed_on > as_of),
            ~recent,
        )
        .order_by(Station.township_id, Station.name)
    )
    return list(db.session.execute(query))


def station_inactive(station, days: int = 90, as_of: date | None = None) -> bool:
    """Tell whether an open station has had no visit held in the `days` up to `as_of`."""
    as_of = as_of or clock.today()
    if station.closed_on is not None and station.closed_on <= as_of:
        return False
    last = last_activity(station.id)
    return last is None or last <= as_of - timedelta(days=days)


# --- the planner's candidates -------------------------------------------------------------
@dataclass
class CandidateFilter:
    """Which open problems the planner offers (all optional)."""

    bbox: tuple[float, float, float, float] | None = None
    township_id: int | None = None
    #: a drawn area, as WKT in EPSG:4326
    within: str | None = None
    statuses: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    priority: str | None = None
    overdue_lookback: bool = False
    reopened: bool = False
    overdue: bool = False
    #: the reader's township scope
    scope_township_id: int | None = None


def parse_area(value: str | None) -> str | None:
    """Parse a drawn area (GeoJSON Polygon/MultiPolygon or a Feature) into checked WKT."""
    if not value:
        return None
    try:
        data = json.loads(value) if isinstance(value, str) else value
        if data.get("type") == "Feature":
            data = data["geometry"]
        geom = shape(data)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise ValidationError(
            "区域无效 (invalid area)", {"within": ["应为 GeoJSON 多边形 (a GeoJSON Polygon)"]}
        ) from None
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise ValidationError(
            "区域无效 (invalid area)", {"within": ["应为多边形 (a Polygon or MultiPolygon)"]}
        )
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError(
            "区域无效 (invalid area)", {"within": ["坐标超出范围 (out of range)"]}
        )
    if len(shapely_wkt.dumps(geom, rounding_precision=7)) > MAX_AREA_VERTICES * 30:
        raise ValidationError("区域太复杂 (area too complex)", {"within": ["顶点太多"]})
    if not geom.is_valid:
        geom = geom.buffer(0)
    return shapely_wkt.dumps(geom, rounding_precision=7)


_CANDIDATE_SQL = """
    SELECT i.id, i.ref, i.title, i.status, i.priority, i.address, i.due_on, i.reopen_count,
           c.code AS category, c.name AS category_name,
           ST_X(i.location) AS lon, ST_Y(i.location) AS lat,
           v.name AS village, t.name AS township, t.code AS township_code,
           EXISTS (SELECT 1 FROM followups f WHERE f.issue_id = i.id AND f.done_at IS NULL
                   AND f.due_on < :today) AS lookback_overdue,
           (i.due_on < :today AND i.status IN ('accepted', 'in_progress')) AS overdue,
           (SELECT p.id FROM photos p WHERE p.issue_id = i.id ORDER BY p.id LIMIT 1) AS photo_id
    FROM issues i
    JOIN categories c ON c.id = i.category_id
    LEFT JOIN areas v ON v.id = i.area_id
    LEFT JOIN areas t ON t.id = i.township_id
    WHERE {where}
    ORDER BY (i.reopen_count > 0) DESC, i.priority = 'urgent' DESC, i.id
"""


def _candidate_where(f: CandidateFilter) -> tuple[str, dict]:
    where = ["i.status NOT IN ('closed', 'rejected', 'duplicate')"]
    params: dict = {"today": clock.today()}
    if f.bbox:
        # && uses the GiST index on issues.location
        where.append("i.location && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)")
        params.update(dict(zip(("x1", "y1", "x2", "y2"), f.bbox, strict=True)))
    if f.township_id:
        where.append("i.township_id = :township_id")
        params["township_id"] = f.township_id
    if f.scope_township_id:
        where.append("i.township_id = :scope_township_id")
        params["scope_township_id"] = f.scope_township_id
    if f.within:
        where.append(
            "i.location && ST_GeomFromText(:within, 4326)"
            " AND ST_Intersects(i.location, ST_GeomFromText(:within, 4326))"
        )
        params["within"] = f.within
    if f.statuses:
        where.append("i.status = ANY(:statuses)")
        params["statuses"] = list(f.statuses)
    if f.categories:
        where.append("c.code = ANY(:categories)")
        params["categories"] = list(f.categories)
    if f.priority:
        where.append("i.priority = :priority")
        params["priority"] = f.priority
    if f.reopened:
        where.append("i.reopen_count > 0")
    if f.overdue:
        where.append("i.due_on < :today AND i.status IN ('accepted', 'in_progress')")
    if f.overdue_lookback:
        where.append(
            "EXISTS (SELECT 1 FROM followups f WHERE f.issue_id = i.id AND f.done_at IS NULL"
            " AND f.due_on < :today)"
        )
    return " AND ".join(where), params


def candidates(f: CandidateFilter, limit: int = CANDIDATE_LIMIT, offset: int = 0) -> list:
    """Return open problems the planner may take as stops (urgent and reopened first)."""
    where, params = _candidate_where(f)
    sql = _CANDIDATE_SQL.format(where=where) + " LIMIT :limit OFFSET :offset"
    return list(db.session.execute(text(sql), {**params, "limit": limit, "offset": offset}))


# The clustering runs in metres: the candidates are projected to the UTM zone of
# their centre (EPSG 326zz north / 327zz south), whose scale error stays under
# 0.1% across a county, so `eps` is a true ground distance. Plain degrees would
# stretch it by 1/cos(latitude) east–west.
_BATCH_SQL = """
    WITH cand AS (
        SELECT i.id, i.location, i.township_id
        FROM issues i JOIN categories c ON c.id = i.category_id
        WHERE {where}
        ORDER BY i.id
        LIMIT :batch_limit
    ),
    zone AS (
        SELECT CASE WHEN avg(ST_Y(location)) >= 0 THEN 32600 ELSE 32700 END
               + LEAST(60, GREATEST(1, floor((avg(ST_X(location)) + 180) / 6)::int + 1)) AS srid
        FROM cand
    ),
    clustered AS (
        SELECT cand.id, cand.location, cand.township_id,
               ST_ClusterDBSCAN(ST_Transform(cand.location, zone.srid), eps => :eps,
                                minpoints => 2) OVER () AS cluster
        FROM cand, zone
    )
    SELECT cluster, array_agg(id ORDER BY id) AS issue_ids, count(*) AS n,
           ST_X(ST_Centroid(ST_Collect(location))) AS lon,
           ST_Y(ST_Centroid(ST_Collect(location))) AS lat,
           array_agg(DISTINCT township_id) AS township_ids
    FROM clustered
    GROUP BY cluster
"""


def batches(f: CandidateFilter, eps_m: float) -> dict:
    """Group candidates lying within `eps_m` metres of each other (DBSCAN, ≥ 2 per batch).

    Returns {"batches": [{"id", "issue_ids", "count", "lon", "lat", "townships", "issues":
    [{"id", "ref", "title", "status", "lon", "lat"}]}], "loners": [issue ids], "eps_m"},
    biggest batch first.
    """
    where, params = _candidate_where(f)
    rows = db.session.execute(
        text(_BATCH_SQL.format(where=where)), {**params, "eps": eps_m, "batch_limit": BATCH_LIMIT}
    ).all()
    wanted = {t for row in rows for t in (row.township_ids or []) if t}
    names = dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_(wanted))).all())
    out, loners = [], []
    for row in rows:
        if row.cluster is None:
            loners.extend(row.issue_ids)
            continue
        out.append(
            {
                "issue_ids": list(row.issue_ids),
                "count": row.n,
                "lon": row.lon,
                "lat": row.lat,
                "townships": sorted(names[t] for t in row.township_ids if t in names),
            }
        )
    ids = [i for batch in out for i in batch["issue_ids"]]
    details = {
        row.id: {
            "id": row.id,
            "ref": row.ref,
            "title": row.title,
            "status": row.status,
            "lon": row.lon,
            "lat": row.lat,
        }
        for row in db.session.execute(
            text(
                "SELECT id, ref, title, status, ST_X(location) AS lon, ST_Y(location) AS lat"
                " FROM issues WHERE id = ANY(:ids)"
            ),
            {"ids": ids},
        )
    }
    for batch in out:
        batch["issues"] = [details[i] for i in batch["issue_ids"] if i in details]
    out.sort(key=lambda b: (-b["count"], b["issue_ids"][0]))
    for number, batch in enumerate(out, start=1):
        batch["id"] = number
    return {"batches": out, "loners": sorted(loners), "eps_m": eps_m}


# --- the map: visits as points -------------------------------------------------------------
def visit_stops_in_bbox(user, bbox, statuses=("planned", "held"), limit: int = 1000) -> list:
    """Return the stops of visible visits in a box (for a map layer), with their visit."""
    x1, y1, x2, y2 = bbox
    from fieldwatch.models import VisitStop

    query = (
        select(
            Visit.id,
            Visit.title,
            Visit.status,
            Visit.planned_for,
            Visit.held_on,
            VisitStop.position,
            VisitStop.issue_id,
            func.ST_X(VisitStop.location).label("lon"),
            func.ST_Y(VisitStop.location).label("lat"),
        )
        .join(VisitStop, VisitStop.visit_id == Visit.id)
        .where(
            visible_to(user),
            Visit.status.in_(statuses),
            VisitStop.location.op("&&")(func.ST_MakeEnvelope(x1, y1, x2, y2, 4326)),
        )
        .order_by(Visit.id, VisitStop.position)
        .limit(limit)
    )
    return list(db.session.execute(query))


def held_visit_villages(since: date, until: date) -> list:
    """Return (area_id, last held_on) for villages with a held visit stop in [since, until]."""
    from fieldwatch.models import VisitStop

    query = (
        select(VisitStop.area_id, func.max(Visit.held_on))
        .join(Visit, Visit.id == VisitStop.visit_id)
        .where(
            and_(Visit.status == "held", Visit.held_on >= since, Visit.held_on <= until),
            VisitStop.area_id.is_not(None),
        )
        .group_by(VisitStop.area_id)
    )
    return list(db.session.execute(query))
