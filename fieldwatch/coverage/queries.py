"""Coverage (覆盖) as DESIGN.md defines it, as of any date, in one set-based query.

A village or community is *covered* on a date when it is in the `serves` of at least
one station open on that date: established on or before it (or undated) and not yet
closed (`closed_on` is the first day it is closed). `serves` is the whole truth: a
village-tier station lists its own village by default (the station services do
that), township and county platforms serve only what they list. A township
*has a platform* when any station in it is open on the date. *Visited*: a held
visit stopped there, or a look-back was done there, between `since` and `as_of`
(both days included, local dates); by default the 90 days up to `as_of`. Visit
stops and look-backs are matched by the village they recorded when written
(`area_id`; a look-back also by its `township_id`, which is indexed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import text

from fieldwatch import clock, datacache
from fieldwatch.extensions import db

DEFAULT_PERIOD_DAYS = 90

# Stations open on :as_of, the villages they serve, and the villages visited in the
# period, for the villages in scope. Each part is restricted to that scope with IN,
# so the planner hashes for the province (one pass over station_serves) and probes
# the indexes (station_serves.area_id, followups.township_id) for one township.
# Look-backs are matched on a UTC range (local midnights), not on a cast of done_at.
_OPEN = """(s.established_on IS NULL OR s.established_on <= :as_of)
           AND (s.closed_on IS NULL OR s.closed_on > :as_of)"""

_STATUS = f"""
    covered AS (
        SELECT DISTINCT ss.area_id FROM station_serves ss JOIN stations s ON s.id = ss.station_id
        WHERE ss.area_id IN (SELECT id FROM villages) AND {_OPEN}
    ),
    visited AS (
        SELECT vs.area_id FROM visit_stops vs JOIN visits vi ON vi.id = vs.visit_id
        WHERE vs.area_id IN (SELECT id FROM villages)
          AND vi.status = 'held' AND vi.held_on BETWEEN :since AND :as_of
        UNION
        SELECT f.area_id FROM followups f
        WHERE f.township_id IN (SELECT id FROM scope)
          AND f.done_at >= :from_ts AND f.done_at < :until_ts AND f.area_id IS NOT NULL
    )
"""

_BY_TOWNSHIP_SQL = f"""
    WITH scope AS MATERIALIZED (
        SELECT t.id, t.code, t.name, t.kind FROM areas t
        WHERE t.level = 'township' AND (CAST(:township AS text) IS NULL OR t.code = :township)
    ),
    villages AS MATERIALIZED (
        SELECT v.id, v.code, v.name, COALESCE(v.kind, 'village') AS kind, v.parent_id
        FROM areas v
        WHERE v.level = 'village' __IN_SCOPE__
    ),
    {_STATUS},
    per_township AS (
        SELECT v.parent_id,
               count(*) FILTER (WHERE v.kind <> 'community') AS villages,
               count(*) FILTER (WHERE v.kind = 'community') AS communities,
               count(c.area_id) AS covered,
               count(w.area_id) AS visited,
               json_agg(json_build_object('code', v.code, 'name', v.name, 'kind', v.kind)
                        ORDER BY v.code) FILTER (WHERE c.area_id IS NULL) AS uncovered
        FROM villages v
        LEFT JOIN covered c ON c.area_id = v.id
        LEFT JOIN (SELECT DISTINCT area_id FROM visited) w ON w.area_id = v.id
        GROUP BY v.parent_id
    ),
    platforms AS (
        SELECT s.township_id, count(*) AS n FROM stations s
        WHERE s.township_id IN (SELECT id FROM scope) AND {_OPEN}
        GROUP BY s.township_id
    )
    SELECT t.code, t.name, t.kind,
           COALESCE(pl.n, 0) > 0 AS has_platform,
           COALESCE(pl.n, 0) AS stations,
           COALESCE(p.villages, 0) AS villages,
           COALESCE(p.communities, 0) AS communities,
           COALESCE(p.covered, 0) AS covered,
           COALESCE(p.visited, 0) AS visited,
           COALESCE(p.uncovered, '[]'::json) AS uncovered
    FROM scope t
    LEFT JOIN per_township p ON p.parent_id = t.id
    LEFT JOIN platforms pl ON pl.township_id = t.id
    ORDER BY t.code
    """
# one township: its villages through the parent_id index; the whole province: every
# village by level (one index range, not 1,500 probes)
_BY_TOWNSHIP = {
    True: text(
        _BY_TOWNSHIP_SQL.replace("__IN_SCOPE__", "AND v.parent_id IN (SELECT id FROM scope)")
    ),
    # the whole province: no part needs narrowing (the joins to villages keep what counts)
    False: text(
        _BY_TOWNSHIP_SQL.replace("__IN_SCOPE__", "")
        .replace("WHERE ss.area_id IN (SELECT id FROM villages) AND ", "WHERE ")
        .replace("WHERE vs.area_id IN (SELECT id FROM villages)\n          AND ", "WHERE ")
        .replace("WHERE f.township_id IN (SELECT id FROM scope)\n          AND ", "WHERE ")
    ),
}

_VILLAGES = text(
    f"""
    WITH villages AS MATERIALIZED (
        SELECT v.id, v.parent_id FROM areas v
        WHERE v.level = 'village' AND (v.boundary IS NOT NULL OR v.location IS NOT NULL)
          AND (CAST(:x0 AS float8) IS NULL
               OR v.boundary && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)
               OR v.location && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))
        ORDER BY v.code
        LIMIT :limit
    ),
    scope AS (SELECT DISTINCT parent_id AS id FROM villages),
    {_STATUS}
    SELECT v.code, v.name, COALESCE(v.kind, 'village') AS kind,
           t.code AS township_code, t.name AS township_name,
           v.id IN (SELECT area_id FROM covered) AS is_covered,
           v.id IN (SELECT area_id FROM visited) AS is_visited,
           ST_AsGeoJSON(COALESCE(ST_SimplifyPreserveTopology(v.boundary, :tolerance), v.location), 5)
               AS geometry
    FROM villages s JOIN areas v ON v.id = s.id LEFT JOIN areas t ON t.id = v.parent_id
    ORDER BY v.code
    """
)


@dataclass
class Counts:
    villages: int = 0
    communities: int = 0
    covered: int = 0
    visited: int = 0

    @property
    def total(self) -> int:
        return self.villages + self.communities

    @property
    def coverage_pct(self) -> float:
        return percent(self.covered, self.total)


@dataclass
class TownshipCoverage(Counts):
    code: str = ""
    name: str = ""
    kind: str | None = None
    has_platform: bool = False
    stations: int = 0
    uncovered: list[dict] = field(default_factory=list)

    @property
    def fully_covered(self) -> bool:
        return self.total > 0 and self.covered == self.total

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "has_platform": self.has_platform,
            "stations": self.stations,
            "villages": self.villages,
            "communities": self.communities,
            "covered": self.covered,
            "coverage_pct": self.coverage_pct,
            "fully_covered": self.fully_covered,
            "visited": self.visited,
            "uncovered": self.uncovered,
        }


@dataclass
class Totals(Counts):
    townships: int = 0
    with_platform: int = 0

    def as_json(self) -> dict:
        return {
            "townships": self.townships,
            "townships_with_platform": self.with_platform,
            "villages": self.villages,
            "communities": self.communities,
            "covered": self.covered,
            "coverage_pct": self.coverage_pct,
            "visited": self.visited,
        }


@dataclass
class Coverage:
    as_of: date
    visited_since: date
    townships: list[TownshipCoverage]
    totals: Totals

    def as_json(self) -> dict:
        """Return the DESIGN.md shape of `GET /api/v1/coverage`."""
        return {
            "as_of": self.as_of.isoformat(),
            "visited_since": self.visited_since.isoformat(),
            "townships": [t.as_json() for t in self.townships],
            "totals": self.totals.as_json(),
        }


def percent(part: int, whole: int) -> float:
    """Return 100 * part / whole rounded half up to one decimal (0.0 when whole is 0)."""
    if not whole:
        return 0.0
    value = Decimal(100 * part) / Decimal(whole)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def default_since(as_of: date) -> date:
    """Return the first day of the default period: the 90 days up to and including `as_of`."""
    return as_of - timedelta(days=DEFAULT_PERIOD_DAYS - 1)


def _params(as_of: date, since: date | None) -> dict:
    since = since or default_since(as_of)
    zone = clock.zone()
    return {
        "as_of": as_of,
        "since": since,
        "from_ts": datetime.combine(since, time.min, zone),
        "until_ts": datetime.combine(as_of + timedelta(days=1), time.min, zone),
    }


def coverage_by_township(
    as_of: date, since: date | None = None, township: str | None = None
) -> Coverage:
    """Return each township's coverage on `as_of` (one township's with `township`) and totals.

    Kept per process until a place, station, visit or look-back is written
    (`coverage_version`, see fieldwatch/datacache.py).
    """
    return datacache.coverage.get(
        ("coverage", as_of, since, township), lambda: _coverage_by_township(as_of, since, township)
    )


def _coverage_by_township(as_of: date, since: date | None, township: str | None) -> Coverage:
    params = _params(as_of, since) | {"township": township}
    rows = db.session.execute(_BY_TOWNSHIP[township is not None], params).all()
    townships = [
        TownshipCoverage(
            code=r.code,
            name=r.name,
            kind=r.kind,
            has_platform=r.has_platform,
            stations=r.stations,
            villages=r.villages,
            communities=r.communities,
            covered=r.covered,
            visited=r.visited,
            uncovered=r.uncovered if isinstance(r.uncovered, list) else json.loads(r.uncovered),
        )
        for r in rows
    ]
    totals = Totals(
        townships=len(townships),
        with_platform=sum(t.has_platform for t in townships),
        villages=sum(t.villages for t in townships),
        communities=sum(t.communities for t in townships),
        covered=sum(t.covered for t in townships),
        visited=sum(t.visited for t in townships),
    )
    return Coverage(as_of, params["since"], townships, totals)


def villages_with_status(
    as_of: date,
    since: date | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    tolerance: float = 0.0002,
    limit: int = 5000,
) -> dict:
    """Return villages (in `bbox`) as a FeatureCollection with `covered` and `visited`.

    Polygons are simplified by `tolerance` degrees; villages known only by their
    office come as points.
    """
    x0, y0, x1, y1 = bbox if bbox else (None, None, None, None)
    params = _params(as_of, since) | {
        "x0": x0, "y0": y0, "x1": x1, "y1": y1, "tolerance": tolerance, "limit": limit + 1,
    }  # fmt: skip
    rows = db.session.execute(_VILLAGES, params).all()
    features = [
        {
            "type": "Feature",
            "geometry": json.loads(r.geometry),
            "properties": {
                "code": r.code,
                "name": r.name,
                "kind": r.kind,
                "township_code": r.township_code,
                "township_name": r.township_name,
                "covered": r.is_covered,
                "visited": r.is_visited,
            },
        }
        for r in rows[:limit]
    ]
    return {"type": "FeatureCollection", "features": features, "truncated": len(rows) > limit}
