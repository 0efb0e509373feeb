"""Point layers (problems, stations, look-backs) thinned by zoom: per township, grid cells, points."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text

from fieldwatch.extensions import db
from fieldwatch.map.queries import tallies
from fieldwatch.map.queries.base import (
    ENV,
    FOLLOWUP_SCOPE,
    HISTORY_DAYS,
    ISSUE_SCOPE,
    OPEN,
    OVERDUE,
    REOPENED,
    STATION_OPEN,
    TOWNSHIP_ZOOM,
    LayerResult,
    Reader,
    feature,
    view_params,
)


@dataclass(frozen=True)
class PointLayer:
    """A point layer: SQL yielding `id, geom, township_id, <flags>, props` for the view.

    `points` holds tokens (`__PROPS__`, …) that `props` maps to the SQL of the
    feature's properties; at township zoom they become NULL (nothing to show).
    """

    name: str
    points: str
    props: dict[str, str]
    #: boolean columns counted in clusters (e.g. overdue)
    flags: tuple[str, ...]
    #: the zoom from which points are no longer clustered
    cluster_below: int

    def sql(self, with_props: bool, only: str | None = None) -> str:
        """The points query; `only` (a query of ids) keeps just those rows, before the
        properties are built (the `__ONLY(col)__` token in each branch's WHERE)."""
        points = self.points
        for token, props in self.props.items():
            points = points.replace(token, props if with_props else "NULL::json")
        return _ONLY.sub(lambda m: f"{m.group(1)} IN ({only})" if only else "TRUE", points)


#: the middle of a group of points (plain averages: cheaper than ST_Centroid(ST_Collect))
CENTRE = "ST_SetSRID(ST_MakePoint(avg(ST_X(geom)), avg(ST_Y(geom))), 4326)"
_ONLY = re.compile(r"__ONLY\(([\w.]+)\)__")


def _cluster_props(source: str, flags: tuple[str, ...], extra: str = "") -> str:
    pairs = "".join(f", '{flag}', {source}.{flag}" for flag in flags)
    return f"json_build_object('cluster', true, 'count', {source}.n{pairs}{extra})"


def point_layer(
    layer: PointLayer, bbox, zoom: int, reader: Reader, today: date, **options
) -> LayerResult:
    """Return a point layer's features for the view, thinned for `zoom`."""
    options.setdefault("limit", 2000)
    options.setdefault("offset", 0)
    params = view_params(bbox, zoom, reader, today, **options)
    counts = "".join(f", count(*) FILTER (WHERE {flag}) AS {flag}" for flag in layer.flags)
    if zoom <= TOWNSHIP_ZOOM:
        mode = "township"
        township = _cluster_props("g", layer.flags, ", 'township', t.code, 'name', t.name")
        at = "COALESCE(t.location, ST_PointOnSurface(t.boundary), g.centre)"
        sql = f"""
            WITH pts AS ({layer.sql(with_props=False)}),
            groups AS (
                SELECT township_id, count(*) AS n, {CENTRE} AS centre{counts}
                FROM pts GROUP BY township_id
            )
            SELECT COALESCE(json_agg({feature("t.code", at, township)} ORDER BY g.n DESC),
                            '[]')::text AS features, false AS more
            FROM groups g LEFT JOIN areas t ON t.id = g.township_id
        """
    elif zoom < layer.cluster_below:
        mode = "grid"
        cluster = feature("NULL", "c.centre", _cluster_props("c", layer.flags))
        # properties only for the cells holding one point: most points end up in clusters
        sql = f"""
            WITH pts AS MATERIALIZED ({layer.sql(with_props=False)}),
            cells AS (
                SELECT count(*) AS n, min(id) AS one_id, {CENTRE} AS centre{counts}
                FROM pts
                -- the cell's integer column and row: cheaper to group on than snapped points
                GROUP BY floor(ST_X(geom) / :cx)::int, floor(ST_Y(geom) / :cy)::int
            ),
            lone AS ({layer.sql(with_props=True, only="SELECT one_id FROM cells WHERE n = 1")})
            SELECT COALESCE(json_agg(
                       CASE WHEN c.n = 1 THEN {feature("p.id", "p.geom", "p.props")} ELSE {cluster} END
                       ORDER BY c.n DESC), '[]')::text AS features, false AS more
            FROM cells c LEFT JOIN lone p ON c.n = 1 AND p.id = c.one_id
        """
    else:
        mode = "points"
        sql = f"""
            WITH pts AS ({layer.sql(with_props=True)}),
            page AS (
                SELECT id, geom, props, row_number() OVER (ORDER BY id) AS n
                FROM pts ORDER BY id LIMIT :limit + 1 OFFSET :offset
            )
            SELECT COALESCE(json_agg({feature("id", "geom", "props")} ORDER BY id)
                            FILTER (WHERE n <= :offset + :limit), '[]')::text AS features,
                   count(*) > :limit AS more
            FROM page
        """
    row = db.session.execute(text(sql), params).one()
    return LayerResult(row.features, mode, bool(row.more))


ISSUES = PointLayer(
    name="issues",
    points=f"""
        SELECT i.id, i.location AS geom, i.township_id,
               {OVERDUE} AS overdue, {REOPENED} AS reopened, __PROPS__ AS props
        FROM issues i JOIN categories c ON c.id = i.category_id
        WHERE i.location && {ENV} AND __ONLY(i.id)__
          AND (__STATUS__)
          AND (CAST(:category AS text) IS NULL OR c.code = :category)
          AND ({ISSUE_SCOPE})
    """,
    props={
        "__PROPS__": f"""json_build_object(
            'id', i.id, 'ref', i.ref, 'title', i.title, 'status', i.status,
            'category', c.code,
            'category_name', CASE WHEN :english AND c.name_en IS NOT NULL
                                  THEN c.name_en ELSE c.name END,
            'priority', i.priority, 'due_on', i.due_on, 'reopen_count', i.reopen_count,
            'overdue', {OVERDUE}, 'reopened', {REOPENED})"""
    },
    flags=("overdue", "reopened"),
    cluster_below=17,
)


def _status_sql(status: str | None) -> tuple[str, list[str] | None]:
    """Return the condition for the `status` filter: open (default), all, or a list."""
    if not status or status == "open":
        return f"i.{OPEN}", None
    if status == "all":
        return "TRUE", None
    return "i.status = ANY(:statuses)", [s for s in status.split(",") if s]


def issues_in_view(
    bbox,
    zoom: int,
    reader: Reader,
    today: date,
    status: str | None = None,
    category: str | None = None,
    english: bool = False,
    **page,
) -> LayerResult:
    """Return the problems in the view (open ones unless `status` says), clustered by zoom."""
    condition, statuses = _status_sql(status)
    layer = PointLayer(
        ISSUES.name,
        ISSUES.points.replace("__STATUS__", condition),
        ISSUES.props,
        ISSUES.flags,
        ISSUES.cluster_below,
    )
    if zoom <= tallies.MAX_GRID_ZOOM and tallies.usable(reader, status, category):
        # open problems counted per village beforehand (issue_tallies): a few ms, not seconds
        page.setdefault("limit", 2000)
        page.setdefault("offset", 0)
        params = view_params(
            bbox, zoom, reader, today, statuses=None, category=None, english=english, **page
        )
        if zoom <= TOWNSHIP_ZOOM:
            return LayerResult(tallies.townships(params), "township")
        return LayerResult(
            tallies.grid(params, lambda only: layer.sql(with_props=True, only=only)), "grid"
        )
    return point_layer(
        layer,
        bbox,
        zoom,
        reader,
        today,
        statuses=statuses,
        category=category,
        english=english,
        **page,
    )


STATIONS = PointLayer(
    name="stations",
    points=f"""
        SELECT s.id, s.location AS geom, s.township_id,
               NOT ({STATION_OPEN}) AS closed, __PROPS__ AS props
        FROM stations s
        WHERE s.location && {ENV} AND __ONLY(s.id)__
    """,
    props={
        "__PROPS__": f"""json_build_object(
            'id', s.id, 'name', s.name, 'kind', s.kind, 'address', s.address,
            'open', {STATION_OPEN},
            'five_haves', s.has_venue::int + s.has_signage::int + s.has_rules::int
                          + s.has_activities::int + s.has_results::int)"""
    },
    flags=("closed",),
    cluster_below=TOWNSHIP_ZOOM + 1,
)


def stations_in_view(bbox, zoom: int, reader: Reader, today: date, **page) -> LayerResult:
    """Return the consultation stations in the view (every signed-in user sees all)."""
    return point_layer(STATIONS, bbox, zoom, reader, today, **page)


_FOLLOWUP_PROPS = """json_build_object(
    'id', f.id, 'issue_id', f.issue_id, 'visit_id', f.visit_id, 'ref', {ref},
    'title', {title}, 'due_on', f.due_on, 'done_on', (f.done_at AT TIME ZONE :tz)::date,
    'state', CASE WHEN f.done_at IS NOT NULL THEN 'done'
                  WHEN f.due_on < :today THEN 'overdue' ELSE 'due' END,
    'days_overdue', CASE WHEN f.done_at IS NULL AND f.due_on < :today
                         THEN :today - f.due_on ELSE 0 END,
    'finding', f.finding, 'on_site', f.on_site)"""
_FOLLOWUP_FLAGS = """(f.done_at IS NULL AND f.due_on < :today) AS overdue,
               (f.done_at IS NULL AND f.due_on >= :today) AS due"""
_FOLLOWUP_WHEN = "(f.done_at IS NULL OR f.done_at >= :done_since)"

FOLLOWUPS = PointLayer(
    name="followups",
    # a problem's look-back sits at the problem; a visit's at its first stop
    points=f"""
        SELECT f.id, i.location AS geom, i.township_id, {_FOLLOWUP_FLAGS},
               __PROPS__ AS props
        FROM issues i JOIN followups f ON f.issue_id = i.id
        WHERE i.location && {ENV} AND __ONLY(f.id)__ AND {_FOLLOWUP_WHEN} AND ({FOLLOWUP_SCOPE})
        UNION ALL
        SELECT f.id, s.location, COALESCE(f.township_id, s.township_id), {_FOLLOWUP_FLAGS},
               __VISIT_PROPS__ AS props
        FROM visit_stops s
        JOIN followups f ON f.visit_id = s.visit_id AND f.issue_id IS NULL
        JOIN visits v ON v.id = f.visit_id
        LEFT JOIN issues i ON false  -- a visit's look-back has no problem
        WHERE s.location && {ENV} AND __ONLY(f.id)__ AND {_FOLLOWUP_WHEN} AND ({FOLLOWUP_SCOPE})
          AND s.position = (SELECT min(x.position) FROM visit_stops x WHERE x.visit_id = s.visit_id)
    """,
    props={
        "__PROPS__": _FOLLOWUP_PROPS.format(ref="i.ref", title="i.title"),
        "__VISIT_PROPS__": _FOLLOWUP_PROPS.format(ref="NULL", title="v.title"),
    },
    flags=("overdue", "due"),
    cluster_below=15,
)


def followups_in_view(
    bbox, zoom: int, reader: Reader, today: date, tz: str = "Asia/Shanghai", **page
) -> LayerResult:
    """Return the look-backs in the view: every one not yet done, and those done lately."""
    return point_layer(
        FOLLOWUPS,
        bbox,
        zoom,
        reader,
        today,
        tz=tz,
        done_since=today - timedelta(days=HISTORY_DAYS),
        **page,
    )
