"""What the benchmark asks, and the SQL that answers the same question on its own.

One Scenario per row of the results table: the requests the app gets (cycled),
the equivalent SQL with the same parameters (cycled alongside), the DESIGN.md
target, and the wrk group it belongs to. To add one, append to `build()`; an
endpoint that answers 404 is reported as "not available" and skipped.

The SQL equivalents are written from DESIGN.md's contracts, each the plainest
set-based statement that returns the same response body (PostGIS writing the
JSON or MVT): they are the floor the app is measured against, not the app's
own queries.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench.measure import Request

#: a browser window's map, pixels
VIEW_PX = (1280, 800)
MAP_LIMIT = 500
OGC_LIMIT = 100
OPEN = "('closed', 'rejected', 'duplicate')"


@dataclass(frozen=True)
class Target:
    p95_ms: float | None = None
    max_bytes: int | None = None
    #: app p50 minus SQL p50 at c=1
    over_sql_ms: float | None = None

    def text(self) -> str:
        parts = []
        if self.p95_ms is not None:
            parts.append(f"p95<{self.p95_ms:g}ms")
        if self.max_bytes is not None:
            parts.append(f"<{self.max_bytes // 1000}KB")
        if self.over_sql_ms is not None:
            parts.append(f"+{self.over_sql_ms:g}ms/SQL")
        return " ".join(parts)


MAP_TARGET = Target(50, 500_000, 5)


@dataclass
class Scenario:
    name: str
    group: str
    target: Target
    requests: list[Request] = field(default_factory=list)
    #: (statements, params) pairs, cycled; statements run in one transaction
    sql: list[tuple[str | list[str], dict]] = field(default_factory=list)
    #: "token", "cookie" or None
    auth: str | None = "token"
    expect: tuple[int, ...] = (200,)
    #: wrk group (GET scenarios only); None: no load test
    load: str | None = None
    #: an in-process call, timed instead of HTTP: call(arg) -> size
    call: Callable | None = None
    call_args: list = field(default_factory=list)
    #: returns a reason when a 2xx response still means "not available" (param ignored ...)
    check: Callable[[bytes], str | None] | None = None


@dataclass
class Places:
    """Where the scenarios look, found in the loaded data."""

    city: tuple[float, float]
    rural: tuple[float, float]
    province: tuple[float, float]
    #: points where people report (near existing problems), deterministic
    points: list[tuple[float, float]]
    township_code: str
    township_id: int
    as_of: str


def bbox_for(centre: tuple[float, float], zoom: float) -> tuple[float, float, float, float]:
    """The lon/lat box of a VIEW_PX map window centred on `centre` at `zoom` (Web Mercator)."""
    lon, lat = centre
    deg_per_px = 360.0 / (256 * 2**zoom)
    half_w = VIEW_PX[0] / 2 * deg_per_px
    half_h = VIEW_PX[1] / 2 * deg_per_px * math.cos(math.radians(lat))
    return (
        round(lon - half_w, 6),
        round(lat - half_h, 6),
        round(lon + half_w, 6),
        round(lat + half_h, 6),
    )


def tile_for(centre: tuple[float, float], z: int) -> tuple[int, int, int]:
    lon, lat = centre
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def bbox_text(b) -> str:
    return ",".join(f"{v:.6f}" for v in b)


def pg_params(sql: str) -> str:
    """SQLAlchemy's :name binds to psycopg2's %(name)s (leaving :: casts alone)."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


# --- the SQL alone -----------------------------------------------------------------------
def _features(inner: str, props: str) -> str:
    return f"""
    SELECT json_build_object(
        'type', 'FeatureCollection',
        'features', coalesce(json_agg(json_build_object(
            'type', 'Feature', 'id', q.id,
            'geometry', ST_AsGeoJSON(q.location, 6)::json,
            'properties', json_build_object({props})) ORDER BY q.ord), '[]'::json)
    )::text
    FROM ({inner}) q
    """


ISSUE_PROPS = (
    "'ref', q.ref, 'title', q.title, 'status', q.status, 'category', q.category, "
    "'priority', q.priority, 'created_at', q.created_at"
)

ISSUES_IN_BBOX = _features(
    """
    SELECT i.id, i.id AS ord, i.ref, i.title, i.status, c.code AS category, i.priority,
           i.created_at, i.location
    FROM issues i JOIN categories c ON c.id = i.category_id
    WHERE i.location && ST_MakeEnvelope(%(x1)s, %(y1)s, %(x2)s, %(y2)s, 4326)
    ORDER BY i.id LIMIT %(limit)s
    """,
    ISSUE_PROPS,
)

NEARBY = _features(
    """
    SELECT i.id, d AS ord, i.ref, i.title, i.status, round(d::numeric, 1) AS distance_m, i.location
    FROM (
        SELECT i.*, ST_Distance(i.location::geography, p.g::geography) AS d
        FROM issues i, (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g) p
        WHERE i.location && ST_Expand(p.g, %(deg)s)
          AND ST_DWithin(i.location::geography, p.g::geography, %(radius)s)
          AND i.status NOT IN """
    + OPEN
    + """
    ) i
    ORDER BY d LIMIT %(limit)s
    """,
    "'ref', q.ref, 'title', q.title, 'status', q.status, 'distance_m', q.distance_m",
)

TILE_POINTS = """
    WITH bounds AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS g)
    SELECT ST_AsMVT(t.*, 'issues', 4096, 'geom') FROM (
        SELECT ST_AsMVTGeom(ST_Transform(i.location, 3857), bounds.g, 4096, 64, true) AS geom,
               i.id, i.status, i.category_id
        FROM issues i, bounds
        WHERE i.location && ST_Transform(bounds.g, 4326)
        LIMIT 10000
    ) t
"""

#: low zooms: counts per cell of a 64 x 64 grid over the tile, computed on the fly
TILE_CLUSTERS = """
    WITH bounds AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS g),
    cells AS (
        SELECT ST_SnapToGrid(ST_Transform(i.location, 3857), %(cell)s) AS g, count(*) AS n
        FROM issues i, bounds
        WHERE i.location && ST_Transform(bounds.g, 4326)
        GROUP BY 1
    )
    SELECT ST_AsMVT(t.*, 'issues', 4096, 'geom') FROM (
        SELECT ST_AsMVTGeom(cells.g, bounds.g, 4096, 64, true) AS geom, cells.n
        FROM cells, bounds
    ) t
"""
#: tiles at or below this zoom are aggregated
CLUSTER_MAX_ZOOM = 12

STATION_OPEN = (
    "(s.established_on IS NULL OR s.established_on <= %(as_of)s)"
    " AND (s.closed_on IS NULL OR s.closed_on > %(as_of)s)"
)

COVERAGE = (
    """
    WITH covered AS (
        SELECT DISTINCT ss.area_id FROM station_serves ss
        JOIN stations s ON s.id = ss.station_id AND """
    + STATION_OPEN
    + """
        {serves_filter}
    ),
    visited AS (
        SELECT vs.area_id FROM visit_stops vs JOIN visits v ON v.id = vs.visit_id
        WHERE v.status = 'held' AND v.held_on > %(as_of)s::date - 90 AND v.held_on <= %(as_of)s
          {stop_filter}
        UNION
        SELECT f.area_id FROM followups f
        WHERE f.done_at >= %(as_of)s::date - 90 AND f.done_at < %(as_of)s::date + 1
          {followup_filter}
    ),
    per_village AS (
        SELECT v.parent_id AS township_id, v.code, v.name, v.kind,
               c.area_id IS NOT NULL AS is_covered, vi.area_id IS NOT NULL AS is_visited
        FROM areas v
        LEFT JOIN covered c ON c.area_id = v.id
        LEFT JOIN visited vi ON vi.area_id = v.id
        WHERE v.level = 'village' {village_filter}
    )
    SELECT json_build_object('as_of', %(as_of)s, 'townships', json_agg(t ORDER BY t.code))::text
    FROM (
        SELECT tw.code, tw.name,
            EXISTS (SELECT 1 FROM stations s WHERE s.township_id = tw.id AND """
    + STATION_OPEN
    + """) AS has_platform,
            count(*) FILTER (WHERE pv.kind = 'village') AS villages,
            count(*) FILTER (WHERE pv.kind = 'community') AS communities,
            count(*) FILTER (WHERE pv.is_covered) AS covered,
            round(100.0 * count(*) FILTER (WHERE pv.is_covered) / count(*), 1) AS coverage_pct,
            count(*) FILTER (WHERE pv.is_visited) AS visited,
            coalesce(json_agg(json_build_object('code', pv.code, 'name', pv.name, 'kind', pv.kind))
                     FILTER (WHERE NOT pv.is_covered), '[]') AS uncovered
        FROM areas tw JOIN per_village pv ON pv.township_id = tw.id
        WHERE tw.level = 'township' {township_filter}
        GROUP BY tw.id
    ) t
"""
)

#: what narrows the coverage SQL to one township (pushed into every part of it)
COVERAGE_FILTERS = {
    "serves_filter": "JOIN areas sv ON sv.id = ss.area_id AND sv.parent_id = %(township)s",
    "stop_filter": "AND vs.township_id = %(township)s",
    "followup_filter": "AND f.township_id = %(township)s",
    "village_filter": "AND v.parent_id = %(township)s",
    "township_filter": "AND tw.id = %(township)s",
}

#: the main map's issues layer (`/api/v1/map/layers/issues`): open problems, thinned by zoom
LAYER_TOWNSHIP_MAX_ZOOM = 10
LAYER_POINTS_FROM_ZOOM = 17
LAYER_LIMIT = 2000
LAYER_CELL_PX = 60

LAYER_TOWNSHIPS = (
    """
    SELECT coalesce(json_agg(json_build_object(
        'type', 'Feature', 'id', t.id, 'geometry', ST_AsGeoJSON(t.location, 5)::json,
        'properties', json_build_object('code', t.code, 'name', t.name, 'count', c.n))), '[]')::text
    FROM (
        SELECT township_id, count(*) AS n FROM issues
        WHERE location && ST_MakeEnvelope(%(x1)s, %(y1)s, %(x2)s, %(y2)s, 4326)
          AND status NOT IN """
    + OPEN
    + """
        GROUP BY township_id
    ) c JOIN areas t ON t.id = c.township_id
    """
)

LAYER_GRID = (
    """
    SELECT coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'geometry', json_build_object('type', 'Point', 'coordinates',
                                      json_build_array(round(g.x::numeric, 5), round(g.y::numeric, 5))),
        'properties', json_build_object('count', g.n))), '[]')::text
    FROM (
        SELECT avg(ST_X(location)) AS x, avg(ST_Y(location)) AS y, count(*) AS n FROM issues
        WHERE location && ST_MakeEnvelope(%(x1)s, %(y1)s, %(x2)s, %(y2)s, 4326)
          AND status NOT IN """
    + OPEN
    + """
        GROUP BY ST_SnapToGrid(location, %(cell)s)
    ) g
    """
)

LAYER_POINTS = _features(
    """
    SELECT i.id, i.id AS ord, i.ref, i.title, i.status, c.code AS category, i.priority,
           i.created_at, i.location
    FROM issues i JOIN categories c ON c.id = i.category_id
    WHERE i.location && ST_MakeEnvelope(%(x1)s, %(y1)s, %(x2)s, %(y2)s, 4326)
      AND i.status NOT IN """
    + OPEN
    + """
    ORDER BY i.id LIMIT %(limit)s
    """,
    ISSUE_PROPS,
)


def _layer_sql(b, zoom: float) -> tuple[str, dict]:
    params = _bbox_params(b, LAYER_LIMIT)
    if zoom <= LAYER_TOWNSHIP_MAX_ZOOM:
        return LAYER_TOWNSHIPS, params
    if zoom < LAYER_POINTS_FROM_ZOOM:
        return LAYER_GRID, params | {"cell": LAYER_CELL_PX * 360.0 / (256 * 2**zoom)}
    return LAYER_POINTS, params


REPORT = [
    # what POST /issues does: place the point, insert and announce, look for duplicates
    """
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g),
    village AS (
        SELECT a.id, a.parent_id FROM areas a, pt
        WHERE a.level = 'village' AND ST_Intersects(a.boundary, pt.g) LIMIT 1
    ),
    made AS (
        INSERT INTO issues (ref, title, category_id, location, accuracy_m, location_source,
            area_id, township_id, reporter_id, source, observed_at, created_at, updated_at,
            status, priority, reopen_count)
        SELECT 'FW-2026-' || lpad(nextval('issue_ref_seq')::text, 6, '0'), %(title)s,
            (SELECT id FROM categories WHERE code = 'roads'), pt.g, 8, 'gps',
            (SELECT id FROM village), (SELECT parent_id FROM village), %(reporter)s, 'field',
            now(), now(), now(), 'reported', 'normal', 0
        FROM pt
        RETURNING id
    )
    INSERT INTO issue_events (issue_id, actor_id, kind, to_status, data, created_at)
    SELECT id, %(reporter)s, 'status', 'reported', '{}', now() FROM made
    """,
    NEARBY,
]


#: what a map client drawing markers asks the list for: the properties ISSUES_IN_BBOX renders
MAP_PROPERTIES = "ref,title,status,category,priority,created_at"


def _issues_url(
    b, zoom: float, limit: int = MAP_LIMIT, properties: str | None = MAP_PROPERTIES
) -> str:
    query = {"bbox": bbox_text(b), "limit": limit, "zoom": int(zoom)}
    if properties:
        query["properties"] = properties
    return "/api/v1/issues?" + urlencode(query)


def _bbox_params(b, limit: int) -> dict:
    return {"x1": b[0], "y1": b[1], "x2": b[2], "y2": b[3], "limit": limit}


def _tile(z: int, x: int, y: int) -> tuple[str, dict]:
    if z <= CLUSTER_MAX_ZOOM:
        cell = 2 * 20037508.342789244 / 2**z / 64
        return TILE_CLUSTERS, {"z": z, "x": x, "y": y, "cell": cell}
    return TILE_POINTS, {"z": z, "x": x, "y": y}


def _single_township(body: bytes) -> str | None:
    try:
        townships = json.loads(body).get("townships", [])
    except (ValueError, AttributeError):
        return "not JSON"
    if len(townships) != 1:
        return f"no township filter yet (answered {len(townships)} townships)"
    return None


def map_views(places: Places) -> list[tuple[str, tuple[float, float], float]]:
    return [
        ("province", places.province, 7),
        ("city", places.city, 10),
        ("city", places.city, 13),
        ("city", places.city, 15),
        ("city", places.city, 17),
        ("rural", places.rural, 11),
        ("rural", places.rural, 14),
    ]


def layer_views(places: Places) -> list[tuple[str, tuple[float, float], float]]:
    """Views for the main map's layer: township counts, grid clusters and points."""
    return [
        ("province", places.province, 7),
        ("city", places.city, 10),
        ("city", places.city, 12),
        ("city", places.city, 14),
        ("city", places.city, 16),
        ("city", places.city, 17),
        ("rural", places.rural, 11),
        ("rural", places.rural, 17),
    ]


def build(places: Places, reporter_id: int, containing_sql: str, pip_call=None) -> list[Scenario]:
    """Every scenario, in the order of the results table."""
    pts = places.points
    out: list[Scenario] = []

    # the fixed cost of an authenticated API request (token, user, JSON), for reading the rest
    out.append(
        Scenario(
            "api baseline (/api/v1/me)",
            "baseline",
            Target(),
            requests=[Request("/api/v1/me")],
            sql=[
                (
                    "SELECT u.id, u.login, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id "
                    "WHERE t.token_hash = %(h)s AND t.revoked_at IS NULL",
                    {"h": "0" * 64},
                )
            ],
        )
    )
    pip_sql = [(containing_sql, {"lon": x, "lat": y}) for x, y in pts]
    out.append(Scenario("point-in-polygon (SQL)", "point-in-polygon", Target(2), sql=pip_sql))
    if pip_call is not None:
        out.append(
            Scenario(
                "point-in-polygon (area_containing)",
                "point-in-polygon",
                Target(2),
                sql=pip_sql,
                call=pip_call,
                call_args=pts,
            )
        )

    radius = 250
    nearby = []
    for x, y in pts:
        deg = radius / (111_320 * math.cos(math.radians(y)))
        nearby.append(({"lon": x, "lat": y, "radius": radius, "deg": deg, "limit": 50}, x, y))
    out.append(
        Scenario(
            "duplicate check (nearby)",
            "duplicate check",
            Target(10),
            requests=[
                Request(f"/api/v1/issues/nearby?lon={x:.6f}&lat={y:.6f}&radius={radius}")
                for _, x, y in nearby
            ],
            sql=[(NEARBY, p) for p, _, _ in nearby],
            load="duplicate check",
        )
    )

    posts, post_sql = [], []
    for k, (x, y) in enumerate(pts):
        body = {
            "title": f"基准测试 路面坑洼 {k}",
            "category": "roads",
            "lon": round(x + 0.00005, 7),
            "lat": round(y + 0.00005, 7),
            "accuracy_m": 8,
            "location_source": "gps",
            "description": "bench",
        }
        posts.append(
            Request(
                "/api/v1/issues",
                "POST",
                json.dumps(body).encode(),
                {"Content-Type": "application/json"},
            )
        )
        deg = radius / (111_320 * math.cos(math.radians(y)))
        post_sql.append(
            (
                REPORT,
                {
                    "lon": body["lon"],
                    "lat": body["lat"],
                    "title": f"基准测试 SQL {k}",
                    "reporter": reporter_id,
                    "radius": radius,
                    "deg": deg,
                    "limit": 5,
                },
            )
        )
    out.append(
        Scenario(
            "issue POST end to end",
            "issue POST",
            Target(30),
            requests=posts,
            sql=post_sql,
            expect=(200, 201),
        )
    )

    for label, centre, zoom in map_views(places):
        b = bbox_for(centre, zoom)
        out.append(
            Scenario(
                f"map api z{zoom:g} {label}",
                "map data",
                MAP_TARGET,
                requests=[Request(_issues_url(b, zoom))],
                sql=[(ISSUES_IN_BBOX, _bbox_params(b, MAP_LIMIT))],
                load="map api",
            )
        )
    # the list as a program reading every property gets it (no target: it is no map's data)
    b = bbox_for(places.city, 13)
    out.append(
        Scenario(
            "issue list z13 city, all properties",
            "api",
            Target(),
            requests=[Request(_issues_url(b, 13, properties=None))],
            sql=[(ISSUES_IN_BBOX, _bbox_params(b, MAP_LIMIT))],
        )
    )
    for label, centre, zoom in layer_views(places):
        b = bbox_for(centre, zoom)
        url = "/api/v1/map/layers/issues?" + urlencode({"bbox": bbox_text(b), "zoom": int(zoom)})
        out.append(
            Scenario(
                f"map layer z{zoom:g} {label}",
                "map data",
                MAP_TARGET,
                requests=[Request(url)],
                sql=[_layer_sql(b, zoom)],
                load="map layer",
            )
        )
    for label, centre, zoom in map_views(places)[::2]:
        b = bbox_for(centre, zoom)
        url = "/ogc/collections/issues/items?" + urlencode(
            {"bbox": bbox_text(b), "limit": OGC_LIMIT}
        )
        out.append(
            Scenario(
                f"ogc items z{zoom:g} {label}",
                "map data",
                MAP_TARGET,
                requests=[Request(url)],
                sql=[(ISSUES_IN_BBOX, _bbox_params(b, OGC_LIMIT))],
                load="ogc items",
            )
        )

    for z in range(4, 17):
        tiles = [tile_for(places.city, z), tile_for(places.rural, z)]
        out.append(
            Scenario(
                f"tiles z{z}",
                "tiles",
                MAP_TARGET,
                requests=[Request(f"/tiles/issues/{z}/{x}/{y}.pbf") for z, x, y in tiles],
                sql=[_tile(*t) for t in tiles],
                load="tiles",
            )
        )

    as_of = places.as_of
    out.append(
        Scenario(
            "coverage province",
            "coverage",
            Target(300),
            requests=[Request("/api/v1/coverage?" + urlencode({"as_of": as_of}))],
            sql=[(COVERAGE.format(**dict.fromkeys(COVERAGE_FILTERS, "")), {"as_of": as_of})],
            load="coverage province",
        )
    )
    out.append(
        Scenario(
            "coverage one township",
            "coverage",
            Target(10),
            requests=[
                Request(
                    "/api/v1/coverage?"
                    + urlencode({"as_of": as_of, "township": places.township_code})
                )
            ],
            sql=[
                (
                    COVERAGE.format(**COVERAGE_FILTERS),
                    {"as_of": as_of, "township": places.township_id},
                )
            ],
            load="coverage township",
            check=_single_township,
        )
    )

    # the home page is the map page
    out.append(
        Scenario(
            "page / (signed in)",
            "page HTML",
            Target(max_bytes=300_000),
            requests=[Request("/")],
            auth="cookie",
            load="page /",
        )
    )
    return out
