"""Map data for the current view: every layer bounded by a bbox, built as GeoJSON by PostGIS.

Each layer answers one question ("which problems are in this view, at this
zoom?") with one set-based statement that starts from the GiST index (`&&`
against the view's envelope) and lets PostGIS write the GeoJSON, so Python
only frames the FeatureCollection. Point layers thin themselves by zoom:

- at the lowest zooms (<= TOWNSHIP_ZOOM) one feature per township with counts;
- below the layer's `cluster_below` zoom, one feature per screen cell of about
  CELL_PX pixels (the grid `ST_SnapToGrid` would use, anchored at 0,0 so clusters do not
  jump while panning); a cell holding one point is that point;
- from `cluster_below` on, the points themselves, in pages of `limit`.

Rows are limited to what the reader may see, by the same rules as the
policy's `issues.view`, `visits.view` and `followups.view` (see `Reader`):
unit staff see their department's problems, township-scoped users their
township's; places and stations are open to every signed-in user.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text

from fieldwatch.extensions import db
from fieldwatch.policy import STAFF

#: at or below this zoom, point layers are counted per township
TOWNSHIP_ZOOM = 10
#: screen size of a cluster cell, pixels
CELL_PX = 60
#: villages are drawn from this zoom on (there are hundreds per county)
VILLAGE_MIN_ZOOM = 11
#: held visits and done look-backs stay on the map this long
HISTORY_DAYS = 90
MAX_FEATURES = 5000

ENV = "ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)"
OPEN = "status NOT IN ('closed', 'rejected', 'duplicate')"
#: a station is open on :today (established, not yet closed)
STATION_OPEN = (
    "(s.established_on IS NULL OR s.established_on <= :today)"
    " AND (s.closed_on IS NULL OR s.closed_on > :today)"
)


@dataclass(frozen=True)
class Reader:
    """Who is looking, as the values the row rules need in SQL."""

    user_id: int | None
    role: str
    #: the user's township scope (None: the whole county)
    township_id: int | None = None
    #: the department of a unit's staff
    unit_id: int | None = None
    unit_code: str | None = None

    @classmethod
    def of(cls, user) -> Reader:
        unit = getattr(user, "unit", None) if user.role == "unit" else None
        return cls(
            user.id,
            user.role,
            getattr(user, "township_id", None),
            getattr(user, "unit_id", None) if user.role == "unit" else None,
            getattr(unit, "code", None),
        )

    def params(self) -> dict:
        return {
            "user_id": self.user_id,
            "staff": self.role in STAFF,
            "unit_only": self.role == "unit",
            "scope_township": self.township_id,
            "scope_unit": self.unit_id,
            "scope_unit_code": self.unit_code,
        }


@dataclass(frozen=True)
class LayerResult:
    """A layer's features as a JSON array text, how they were thinned, and whether more exist."""

    features: str
    mode: str
    more: bool = False


def pixel_degrees(zoom: int) -> float:
    """Return the width of one screen pixel in degrees of longitude at `zoom`."""
    return 360.0 / (256 * 2**zoom)


def _digits(zoom: int) -> int:
    """Return the decimals a boundary coordinate needs at `zoom` (half a pixel or better)."""
    return max(3, min(6, math.ceil(-math.log10(pixel_degrees(zoom) / 2))))


def _params(bbox, zoom: int, reader: Reader, today: date, **extra) -> dict:
    x1, y1, x2, y2 = bbox
    mid_lat = math.radians(max(-85.0, min(85.0, (y1 + y2) / 2)))
    cell = CELL_PX * pixel_degrees(zoom)
    return {
        "x1": x1,
        "y1": y1,
        "x2": x2,
        "y2": y2,
        "today": today,
        # a screen cell is square: a degree of latitude is longer on Web Mercator
        "cx": cell,
        "cy": cell * math.cos(mid_lat),
        **reader.params(),
        **extra,
    }


# --- point layers ---------------------------------------------------------------------
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


def _feature(id_sql: str, geom_sql: str, props_sql: str, digits: int = 6) -> str:
    return (
        f"json_build_object('type', 'Feature', 'id', {id_sql}, "
        f"'geometry', ST_AsGeoJSON({geom_sql}, {digits})::json, 'properties', {props_sql})"
    )


def _cluster_props(source: str, flags: tuple[str, ...], extra: str = "") -> str:
    pairs = "".join(f", '{flag}', {source}.{flag}" for flag in flags)
    return f"json_build_object('cluster', true, 'count', {source}.n{pairs}{extra})"


def point_layer(
    layer: PointLayer, bbox, zoom: int, reader: Reader, today: date, **options
) -> LayerResult:
    """Return a point layer's features for the view, thinned for `zoom`."""
    options.setdefault("limit", 2000)
    options.setdefault("offset", 0)
    params = _params(bbox, zoom, reader, today, **options)
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
            SELECT COALESCE(json_agg({_feature("t.code", at, township)} ORDER BY g.n DESC),
                            '[]')::text AS features, false AS more
            FROM groups g LEFT JOIN areas t ON t.id = g.township_id
        """
    elif zoom < layer.cluster_below:
        mode = "grid"
        cluster = _feature("NULL", "c.centre", _cluster_props("c", layer.flags))
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
                       CASE WHEN c.n = 1 THEN {_feature("p.id", "p.geom", "p.props")} ELSE {cluster} END
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
            SELECT COALESCE(json_agg({_feature("id", "geom", "props")} ORDER BY id)
                            FILTER (WHERE n <= :offset + :limit), '[]')::text AS features,
                   count(*) > :limit AS more
            FROM page
        """
    row = db.session.execute(text(sql), params).one()
    return LayerResult(row.features, mode, bool(row.more))


OVERDUE = "(i.status = 'in_progress' AND i.due_on < :today)"
REOPENED = f"(i.reopen_count > 0 AND i.{OPEN})"
#: the policy's issues.view: a unit's staff see their department's problems,
#: a township-scoped user the township's
ISSUE_SCOPE = """CASE WHEN :unit_only THEN i.unit_id = :scope_unit
        ELSE CAST(:scope_township AS integer) IS NULL OR i.township_id = :scope_township END"""
#: the policy's followups.view: a unit sees the look-backs of its own problems
FOLLOWUP_SCOPE = """CASE WHEN :unit_only THEN f.issue_id IS NOT NULL AND i.unit_id = :scope_unit
        ELSE CAST(:scope_township AS integer) IS NULL OR f.township_id = :scope_township END"""
#: the policy's visits.view: staff by township (or as leader), others when invited
VISIT_SCOPE = """CASE
        WHEN :staff THEN CAST(:scope_township AS integer) IS NULL
                         OR v.township_id = :scope_township OR v.leader_id = :user_id
        WHEN :unit_only THEN v.participants @> jsonb_build_object(
                         'units', jsonb_build_array(CAST(:scope_unit_code AS text)))
        ELSE v.leader_id = :user_id OR v.participants @> jsonb_build_object(
                         'members', jsonb_build_array(CAST(:user_id AS integer))) END"""

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


# --- visits -----------------------------------------------------------------------------
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
    _feature("id", "geom", VISIT_PROPS)
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
    params = _params(
        bbox, zoom, reader, today, limit=limit, held_since=today - timedelta(days=HISTORY_DAYS)
    )
    row = db.session.execute(text(_VISITS), params).one()
    return LayerResult(row.features, "points", bool(row.more))


# --- places -----------------------------------------------------------------------------
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
    digits = _digits(zoom)
    geom = "ST_SimplifyPreserveTopology(t.geom, :tolerance)"
    props = f"json_build_object('code', t.code, 'name', t.name, 'kind', t.kind, {COVERAGE_PROPS})"
    sql = f"""
        WITH t AS ({places_sql("township")}),
        {coverage_ctes("t")}
        SELECT COALESCE(json_agg({_feature("t.code", geom, props, digits)} ORDER BY t.code),
                        '[]')::text AS features
        FROM t LEFT JOIN cov ON cov.township_id = t.id LEFT JOIN plat ON plat.township_id = t.id
    """
    params = _params(bbox, zoom, reader, today, tolerance=pixel_degrees(zoom))
    return LayerResult(db.session.execute(text(sql), params).scalar_one(), "all")


def villages_in_view(bbox, zoom: int, reader: Reader, today: date, **_) -> LayerResult:
    """Return villages and communities in the view, with whether a station serves them.

    Below VILLAGE_MIN_ZOOM there are too many to draw; the answer is empty.
    """
    if zoom < VILLAGE_MIN_ZOOM:
        return LayerResult("[]", "hidden")
    digits = _digits(zoom)
    geom = "ST_SimplifyPreserveTopology(v.geom, :tolerance)"
    props = """json_build_object('code', v.code, 'name', v.name, 'kind', v.kind,
        'township', t.code, 'township_name', t.name, 'covered', served.area_id IS NOT NULL)"""
    sql = f"""
        WITH v AS ({places_sql("village")} LIMIT :limit + 1),
        {served_cte("SELECT id FROM v")},
        numbered AS (SELECT v.*, row_number() OVER (ORDER BY v.code) AS rn FROM v)
        SELECT COALESCE(json_agg({_feature("v.code", geom, props, digits)} ORDER BY v.code)
                        FILTER (WHERE v.rn <= :limit), '[]')::text AS features,
               count(*) > :limit AS more
        FROM numbered v LEFT JOIN areas t ON t.id = v.parent_id
             LEFT JOIN served ON served.area_id = v.id
    """
    params = _params(bbox, zoom, reader, today, tolerance=pixel_degrees(zoom), limit=MAX_FEATURES)
    row = db.session.execute(text(sql), params).one()
    return LayerResult(row.features, "all", bool(row.more))


#: the layers of /api/v1/map/layers/<name>, in drawing order
LAYERS = {
    "townships": townships_in_view,
    "villages": villages_in_view,
    "visits": visits_in_view,
    "stations": stations_in_view,
    "followups": followups_in_view,
    "issues": issues_in_view,
}


# --- the first view and search ----------------------------------------------------------
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


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_SEARCH = f"""
    (SELECT 'issue' AS type, i.id::text AS key, i.ref || ' ' || i.title AS label,
            i.status AS detail, ST_X(i.location) AS lon, ST_Y(i.location) AS lat,
            NULL::float AS w, NULL::float AS s, NULL::float AS e, NULL::float AS n, 0 AS rank
     FROM issues i
     -- refs are upper case; LIKE with a prefix uses the unique index (C collation)
     WHERE (i.ref LIKE :ref_prefix OR i.ref LIKE :ref_number) AND ({ISSUE_SCOPE})
     ORDER BY i.ref LIMIT :limit)
    UNION ALL
    (SELECT a.level, a.code, a.name, p.name,
            ST_X(COALESCE(a.location, ST_PointOnSurface(a.boundary))),
            ST_Y(COALESCE(a.location, ST_PointOnSurface(a.boundary))),
            ST_XMin(a.boundary), ST_YMin(a.boundary), ST_XMax(a.boundary), ST_YMax(a.boundary),
            CASE a.level WHEN 'township' THEN 1 WHEN 'village' THEN 2 ELSE 3 END
     FROM areas a LEFT JOIN areas p ON p.id = a.parent_id
     WHERE a.name ILIKE :contains AND a.level IN ('township', 'village')
     ORDER BY (a.name ILIKE :starts) DESC, length(a.name), a.code LIMIT :limit)
    UNION ALL
    (SELECT 'station', s.id::text, s.name, s.address, ST_X(s.location), ST_Y(s.location),
            NULL, NULL, NULL, NULL, 4
     FROM stations s
     WHERE s.name ILIKE :contains
     ORDER BY (s.name ILIKE :starts) DESC, length(s.name), s.id LIMIT :limit)
    ORDER BY rank LIMIT :limit
"""


def search(q: str, reader: Reader, limit: int = 10) -> list[dict]:
    """Find places (townships, villages), stations by name and problems by ref."""
    q = (q or "").strip()
    if not q:
        return []
    like = _like(q)
    number = q.lstrip("0") if q.isdigit() else None
    rows = db.session.execute(
        text(_SEARCH),
        {
            "ref_prefix": _like(q.upper())[1:],
            # a bare number finds FW-<year>-<that number, zero-padded>
            "ref_number": f"FW-%-{int(number or 0):06d}" if number else "",
            "contains": like,
            "starts": like[1:],
            "limit": limit,
            **reader.params(),
        },
    ).all()
    return [
        {
            "type": r.type,
            "key": r.key,
            "label": r.label,
            "detail": r.detail,
            "lon": r.lon,
            "lat": r.lat,
            "bbox": [r.w, r.s, r.e, r.n] if r.w is not None else None,
        }
        for r in rows
    ]
