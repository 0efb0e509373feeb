"""The OGC API – Features layers: what each one shows, as data and SQL.

Each layer lists its properties once (name, type, SQL, meaning); the items
query, the OpenAPI document and the JSON Schema are all built from that list,
so every feature carries the same keys (null when empty) and GDAL or QGIS
infer one stable schema. Nothing here names a person: no reporter, inspector,
leader, convener or resident contact, only codes, ids of things and numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

#: OGC's longitude/latitude WGS 84, the only CRS offered
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def utc(expr: str) -> str:
    """SQL rendering a timestamptz as RFC 3339 in UTC (independent of the session zone)."""
    return f"""to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


def day_start(expr: str) -> str:
    """SQL for the first instant of a local date (the app's zone is the :tz parameter)."""
    return f"(CAST({expr} AS timestamp) AT TIME ZONE :tz)"


@dataclass(frozen=True)
class Prop:
    name: str
    #: string | integer | number | boolean | date | date-time
    type: str
    sql: str
    description: str


@dataclass(frozen=True)
class Layer:
    id: str
    title: str
    description: str
    #: the GeoJSON geometry type of every feature (or null geometry)
    geometry_type: str
    properties: tuple[Prop, ...]
    #: SQL expressions for the feature id and geometry
    id_sql: str
    geom_sql: str
    #: the driving table with its alias, the joins for the properties, the defining conditions
    table: str
    joins: str
    where: tuple[str, ...] = ()
    #: condition on the indexed geometry column(s) with :x1 :y1 :x2 :y2
    bbox_sql: str = ""
    #: or, where rows take their geometry from different tables: (part, its box condition)
    bbox_parts: tuple[tuple[str, str], ...] = ()
    #: the layer's time span for `datetime`: (start, end, end is exclusive); None = timeless
    when: tuple[str, str, bool] | None = None
    #: SQL giving the layer's extent (box2d); the caller caches it
    extent_sql: str = ""
    #: (table, column) whose planner statistics may stand in for the extent when it is big
    estimate: tuple[str, str] | None = None

    @property
    def from_sql(self) -> str:
        return f"{self.table} {self.joins}"

    def props_sql(self) -> str:
        """json_build_object over every property (PostgreSQL takes at most 50 pairs)."""
        pairs = ", ".join(f"'{p.name}', {p.sql}" for p in self.properties)
        return f"json_build_object({pairs})"


def _lookup(table: str, column: str, key: str) -> str:
    """SQL: one column of the row `key` points at (a scalar subquery on the primary key)."""
    return f"(SELECT x.{column} FROM {table} x WHERE x.id = {key})"


def _envelope(column: str) -> str:
    return f"{column} && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)"


# --- places ----------------------------------------------------------------------
TOWNSHIPS = Layer(
    id="townships",
    title="乡镇（街道） Townships",
    description="Townships, towns and sub-districts with their boundaries (MultiPolygon; "
    "null where no boundary was imported) and the office position as numbers.",
    geometry_type="MultiPolygon",
    id_sql="a.id",
    geom_sql="a.boundary",
    table="areas a",
    joins="LEFT JOIN areas p ON p.id = a.parent_id",
    where=("a.level = 'township'",),
    bbox_sql=_envelope("a.boundary"),
    extent_sql="SELECT ST_Extent(boundary) FROM areas WHERE level = 'township'",
    properties=(
        Prop("code", "string", "a.code", "12-digit statistical division code (统计用区划代码)"),
        Prop("name", "string", "a.name", "name"),
        Prop("kind", "string", "a.kind", "town | xiang | subdistrict"),
        Prop("county_code", "string", "p.code", "code of the county"),
        Prop("has_boundary", "boolean", "a.boundary IS NOT NULL", "whether a boundary exists"),
        Prop("office_lon", "number", "ST_X(a.location)", "longitude of the office"),
        Prop("office_lat", "number", "ST_Y(a.location)", "latitude of the office"),
    ),
)

VILLAGES = Layer(
    id="villages",
    title="村（社区） Villages and communities",
    description="Administrative villages and communities as MultiPolygons. Many counties have "
    "only the committee office's point: those villages have a null geometry here and appear "
    "as points in `village_offices`; `office_lon`/`office_lat` carry the office position.",
    geometry_type="MultiPolygon",
    id_sql="a.id",
    geom_sql="a.boundary",
    table="areas a",
    joins="LEFT JOIN areas p ON p.id = a.parent_id",
    where=("a.level = 'village'",),
    bbox_sql=f"({_envelope('a.boundary')} OR (a.boundary IS NULL AND {_envelope('a.location')}))",
    extent_sql="SELECT ST_Extent(COALESCE(boundary, location)) FROM areas WHERE level = 'village'",
    properties=(
        Prop("code", "string", "a.code", "12-digit statistical division code"),
        Prop("name", "string", "a.name", "name"),
        Prop("kind", "string", "a.kind", "village (行政村) | community (社区)"),
        Prop("township_code", "string", "p.code", "code of the township"),
        Prop("has_boundary", "boolean", "a.boundary IS NOT NULL", "whether a boundary exists"),
        Prop("office_lon", "number", "ST_X(a.location)", "longitude of the committee office"),
        Prop("office_lat", "number", "ST_Y(a.location)", "latitude of the committee office"),
    ),
)

VILLAGE_OFFICES = Layer(
    id="village_offices",
    title="村（社区）委员会 Village offices",
    description="The committee office of each village or community that has one, as a Point.",
    geometry_type="Point",
    id_sql="a.id",
    geom_sql="a.location",
    table="areas a",
    joins="LEFT JOIN areas p ON p.id = a.parent_id",
    where=("a.level = 'village'", "a.location IS NOT NULL"),
    bbox_sql=_envelope("a.location"),
    extent_sql="SELECT ST_Extent(location) FROM areas WHERE level = 'village'",
    properties=(
        Prop("code", "string", "a.code", "12-digit statistical division code"),
        Prop("name", "string", "a.name", "name"),
        Prop("kind", "string", "a.kind", "village | community"),
        Prop("township_code", "string", "p.code", "code of the township"),
        Prop("has_boundary", "boolean", "a.boundary IS NOT NULL", "whether a boundary exists"),
    ),
)

# --- stations --------------------------------------------------------------------
_STATION_OPEN = (
    "((s.established_on IS NULL OR s.established_on <= :today)"
    " AND (s.closed_on IS NULL OR s.closed_on > :today))"
)
_FIVE = ("venue", "signage", "rules", "activities", "results")

STATIONS = Layer(
    id="stations",
    title="协商工作站 Stations",
    description="Consultation stations and platforms (Point). `is_open` is as of today; "
    "`serves` lists the codes of the villages and communities served, comma-separated.",
    geometry_type="Point",
    id_sql="s.id",
    geom_sql="s.location",
    table="stations s",
    joins="LEFT JOIN areas v ON v.id = s.area_id LEFT JOIN areas t ON t.id = s.township_id",
    bbox_sql=_envelope("s.location"),
    when=(day_start("s.established_on"), day_start("s.closed_on"), True),
    extent_sql="SELECT ST_Extent(location) FROM stations",
    properties=(
        Prop("name", "string", "s.name", "name"),
        Prop("kind", "string", "s.kind", "street_block | rural | member_studio | ..."),
        Prop(
            "tier",
            "string",
            "CASE s.kind WHEN 'county_platform' THEN 'county' "
            "WHEN 'township_platform' THEN 'township' ELSE 'village' END",
            "county | township | village",
        ),
        Prop("address", "string", "s.address", "address"),
        Prop("village_code", "string", "v.code", "code of its own village or community"),
        Prop("township_code", "string", "t.code", "code of its township"),
        Prop("established_on", "date", "s.established_on", "date established"),
        Prop("closed_on", "date", "s.closed_on", "date closed"),
        Prop("is_open", "boolean", _STATION_OPEN, "open today"),
        *(
            Prop(f"has_{name}", "boolean", f"s.has_{name}", f"five-haves (五有): {name}")
            for name in _FIVE
        ),
        Prop(
            "five_haves",
            "integer",
            " + ".join(f"s.has_{name}::int" for name in _FIVE),
            "how many of the five haves it meets (0–5)",
        ),
        Prop(
            "serves",
            "string",
            "(SELECT string_agg(sa.code, ',' ORDER BY sa.code) FROM station_serves ss "
            "JOIN areas sa ON sa.id = ss.area_id WHERE ss.station_id = s.id)",
            "codes of the villages and communities it serves, comma-separated",
        ),
        Prop(
            "member_count",
            "integer",
            "(SELECT count(*) FROM station_members sm WHERE sm.station_id = s.id)",
            "committee members linked with it",
        ),
    ),
)

# --- issues ----------------------------------------------------------------------
_ENDED = "('closed', 'rejected', 'duplicate')"

ISSUES = Layer(
    id="issues",
    title="问题 Problems",
    description="Problems reported in the field, by Open311 or by the hotline (Point). "
    "`datetime` filters on `created_at`. No reporter or resident contact is included.",
    geometry_type="Point",
    id_sql="i.id",
    geom_sql="i.location",
    table="issues i",
    # names by scalar subqueries, not joins: planning five joins cost ~1 ms a page
    joins="",
    bbox_sql=_envelope("i.location"),
    when=("i.created_at", "i.created_at", False),
    extent_sql="SELECT ST_Extent(location) FROM issues",
    estimate=("issues", "location"),
    properties=(
        Prop("ref", "string", "i.ref", "reference, e.g. FW-2026-000123"),
        Prop("title", "string", "i.title", "title"),
        Prop("description", "string", "i.description", "description"),
        Prop(
            "category",
            "string",
            _lookup("categories", "code", "i.category_id"),
            "category code (an Open311 service_code)",
        ),
        Prop(
            "category_name",
            "string",
            _lookup("categories", "name", "i.category_id"),
            "category name",
        ),
        Prop(
            "status",
            "string",
            "i.status",
            "reported | accepted | in_progress | resolved | closed | rejected | duplicate",
        ),
        Prop(
            "is_open", "boolean", f"i.status NOT IN {_ENDED}", "not closed, rejected or duplicate"
        ),
        Prop(
            "is_overdue",
            "boolean",
            "(i.status IN ('accepted', 'in_progress') AND i.due_on IS NOT NULL "
            "AND i.due_on < :today)",
            "with a unit and past its due date",
        ),
        Prop("priority", "string", "i.priority", "normal | urgent"),
        Prop("source", "string", "i.source", "field | visit | open311 | hotline | import"),
        Prop("address", "string", "i.address", "address"),
        Prop(
            "village_code",
            "string",
            _lookup("areas", "code", "i.area_id"),
            "code of the village or community",
        ),
        Prop(
            "township_code",
            "string",
            _lookup("areas", "code", "i.township_id"),
            "code of the township",
        ),
        Prop(
            "unit",
            "string",
            _lookup("units", "code", "i.unit_id"),
            "code of the responsible unit (承办单位)",
        ),
        Prop(
            "unit_name",
            "string",
            _lookup("units", "name", "i.unit_id"),
            "name of the responsible unit",
        ),
        Prop("due_on", "date", "i.due_on", "due date"),
        Prop("answer_class", "string", "i.answer_class", "A | B | C"),
        Prop("accuracy_m", "number", "i.accuracy_m", "radius of the phone's fix, metres"),
        Prop("location_source", "string", "i.location_source", "gps | exif | manual"),
        Prop("observed_at", "date-time", utc("i.observed_at"), "the phone's time of the report"),
        Prop("created_at", "date-time", utc("i.created_at"), "received"),
        Prop("updated_at", "date-time", utc("i.updated_at"), "last change"),
        Prop("accepted_at", "date-time", utc("i.accepted_at"), "accepted (立项)"),
        Prop("resolved_at", "date-time", utc("i.resolved_at"), "resolved (办结)"),
        Prop("closed_at", "date-time", utc("i.closed_at"), "closed after look-back (销号)"),
        Prop("reopen_count", "integer", "i.reopen_count", "times a look-back reopened it"),
        Prop(
            "duplicate_of",
            "string",
            _lookup("issues", "ref", "i.duplicate_of_id"),
            "ref of the problem it duplicates",
        ),
        Prop(
            "photo_count",
            "integer",
            "(SELECT count(*) FROM photos ph WHERE ph.issue_id = i.id)",
            "photos",
        ),
    ),
)

# --- visits ----------------------------------------------------------------------
_STOPS = (
    "LEFT JOIN LATERAL (SELECT ST_Multi(ST_Collect(vs.location ORDER BY vs.position)) AS geom, "
    "count(*) AS n, string_agg(si.ref, ',' ORDER BY vs.position) AS refs "
    "FROM visit_stops vs LEFT JOIN issues si ON si.id = vs.issue_id "
    "WHERE vs.visit_id = v.id) st ON true"
)


def _count(path: str) -> str:
    return (
        f"CASE WHEN jsonb_typeof(v.attendance->'{path}') = 'number' "
        f"THEN (v.attendance->>'{path}')::numeric END"
    )


VISITS = Layer(
    id="visits",
    title="走访 Visits",
    description="On-site consultation visits (现场协商) as the MultiPoint of their stops in "
    "order (null when a visit has no stops). `datetime` filters on the day held, else planned.",
    geometry_type="MultiPoint",
    id_sql="v.id",
    geom_sql="st.geom",
    table="visits v",
    joins="LEFT JOIN areas t ON t.id = v.township_id "
    f"LEFT JOIN stations s ON s.id = v.station_id {_STOPS}",
    # the stops' GiST index finds the visits; the semi-join keeps it usable
    bbox_sql="v.id IN (SELECT bs.visit_id FROM visit_stops bs "
    "WHERE bs.location && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326))",
    when=(
        day_start("COALESCE(v.held_on, v.planned_for)"),
        day_start("COALESCE(v.held_on, v.planned_for) + 1"),
        True,
    ),
    extent_sql="SELECT ST_Extent(location) FROM visit_stops",
    properties=(
        Prop("title", "string", "v.title", "the topic (定题)"),
        Prop("form", "string", "v.form", "on_site | meeting | online | written | inspection"),
        Prop("status", "string", "v.status", "planned | held | cancelled"),
        Prop("planned_for", "date", "v.planned_for", "planned date"),
        Prop("held_on", "date", "v.held_on", "date held"),
        Prop("township_code", "string", "t.code", "code of the township"),
        Prop("station_id", "integer", "v.station_id", "id of the station (stations layer)"),
        Prop("station_name", "string", "s.name", "name of the station"),
        Prop("stop_count", "integer", "COALESCE(st.n, 0)", "stops"),
        Prop("issue_refs", "string", "st.refs", "refs of the problems visited, in order"),
        Prop("start_lon", "number", "ST_X(v.start_location)", "longitude of the start"),
        Prop("start_lat", "number", "ST_Y(v.start_location)", "latitude of the start"),
        Prop("attendance_members", "number", _count("members"), "members who attended"),
        Prop("attendance_officials", "number", _count("officials"), "officials who attended"),
        Prop("attendance_residents", "number", _count("residents"), "residents who attended"),
        Prop("opinions", "string", "v.opinions", "consultation opinions (协商意见)"),
        Prop(
            "action_count",
            "integer",
            "CASE WHEN jsonb_typeof(v.actions) = 'array' THEN jsonb_array_length(v.actions) "
            "ELSE 0 END",
            "agreed actions",
        ),
        Prop("created_at", "date-time", utc("v.created_at"), "planned at"),
    ),
)

# --- look-backs --------------------------------------------------------------------
# the condition on f inside the subquery gates it: a problem's look-back never scans stops
_FIRST_STOP = (
    "LEFT JOIN LATERAL (SELECT fs.location FROM visit_stops fs WHERE f.issue_id IS NULL "
    "AND fs.visit_id = f.visit_id ORDER BY fs.position LIMIT 1) vs ON true"
)
_STATE = "CASE WHEN f.done_at IS NOT NULL THEN 'done' WHEN f.due_on < :today THEN 'overdue' ELSE 'due' END"

FOLLOWUPS = Layer(
    id="followups",
    title="回头看 Look-backs",
    description="Look-backs (回头看) at the problem's point (a visit's look-back: its first "
    "stop). Where the inspector stood is in `inspector_lon`/`inspector_lat`. `datetime` "
    "filters on the due date. No inspector is named.",
    geometry_type="Point",
    id_sql="f.id",
    geom_sql="COALESCE(i.location, vs.location)",
    table="followups f",
    joins="LEFT JOIN issues i ON i.id = f.issue_id "
    "LEFT JOIN areas t ON t.id = COALESCE(f.township_id, i.township_id) "
    f"LEFT JOIN units u ON u.id = i.unit_id {_FIRST_STOP}",
    # both candidate sets come from GiST indexes (hashed sub-plans); the last test is exact
    # a problem's look-back by the problem's point, a visit's by its first stop: each part
    # is one indexable test the planner sizes well (an OR of them made it scan every problem)
    bbox_parts=(
        ("f.issue_id IS NOT NULL", _envelope("i.location")),
        ("f.issue_id IS NULL", _envelope("vs.location")),
    ),
    when=(day_start("f.due_on"), day_start("f.due_on + 1"), True),
    extent_sql="SELECT ST_Extent(i.location) FROM followups f JOIN issues i ON i.id = f.issue_id",
    estimate=("issues", "location"),
    properties=(
        Prop("issue_id", "integer", "f.issue_id", "id of the problem (issues layer)"),
        Prop("ref", "string", "i.ref", "ref of the problem"),
        Prop("title", "string", "i.title", "title of the problem"),
        Prop("visit_id", "integer", "f.visit_id", "id of the visit (visits layer)"),
        Prop("kind", "string", "f.kind", "scheduled | rework | spot_check | extra | visit"),
        Prop("due_on", "date", "f.due_on", "due date"),
        Prop("done_at", "date-time", utc("f.done_at"), "when it was recorded"),
        Prop("state", "string", _STATE, "due | overdue | done"),
        Prop(
            "days_overdue",
            "integer",
            "CASE WHEN f.done_at IS NULL AND f.due_on < :today THEN :today - f.due_on ELSE 0 END",
            "days past the due date while not done",
        ),
        Prop("finding", "string", "f.finding", "solved | partly | unsolved | regressed"),
        Prop("on_site", "boolean", "f.on_site", "recorded near the place"),
        Prop("distance_m", "number", "f.distance_m", "inspector's distance to the place, m"),
        Prop("inspector_lon", "number", "ST_X(f.location)", "longitude where it was recorded"),
        Prop("inspector_lat", "number", "ST_Y(f.location)", "latitude where it was recorded"),
        Prop("accuracy_m", "number", "f.accuracy_m", "radius of the inspector's fix, m"),
        Prop(
            "satisfaction",
            "string",
            "f.satisfaction",
            "satisfied | basically_satisfied | dissatisfied",
        ),
        Prop("note", "string", "f.note", "what was found"),
        Prop("township_code", "string", "t.code", "code of the township"),
        Prop("unit", "string", "u.code", "code of the problem's responsible unit"),
        Prop(
            "photo_count",
            "integer",
            "(SELECT count(*) FROM photos ph WHERE ph.followup_id = f.id)",
            "photos",
        ),
    ),
)

LAYERS: dict[str, Layer] = {
    layer.id: layer
    for layer in (TOWNSHIPS, VILLAGES, VILLAGE_OFFICES, STATIONS, ISSUES, VISITS, FOLLOWUPS)
}
