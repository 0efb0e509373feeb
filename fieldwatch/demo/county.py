"""A deterministic, plausible demo county (雁江区) for fixtures, demos and tests.

Pure Python and shapely only: no database, no Flask. ``build_county(seed)`` returns the
same townships, villages, stations and users for the same seed. Geometry is WGS-84
lon/lat around Ziyang, Sichuan; townships and villages are clipped Voronoi cells.

Stations follow the seed figures (43 street-block + 14 rural) plus one county and one
township platform per township, and village councils (村务协商议事会) where coverage is
thinnest. Each village-tier station serves its own village and a few neighbours, so
nearly every village is covered, as in the seeds ("402个行政村(社区)…全覆盖"), but not
quite: about 85-92 % of the ~400 villages (the subdistricts fully, rural townships
mostly), one xiang has no station at all, and two stations are closed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

import shapely
from shapely import affinity
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.ops import voronoi_diagram

from . import names as N

CENTRE = (104.65, 30.12)
SIZE_DEG = (0.415, 0.315)  # about 40 km x 35 km at 30.1 N
N_SUBDISTRICTS, N_TOWNS, N_XIANG = 4, 12, 3
VILLAGE_TOTAL = 402
N_STREET_BLOCK, N_RURAL = 43, 14
#: how many neighbours (at least, at most) a village-tier station serves besides its own village
REACH = {
    "street_block": (2, 4),
    "rural": (3, 5),
    "village_council": (2, 4),
    "member_studio": (0, 0),
}
#: village councils are added until this share of the stationed townships' villages is served
COUNCIL_TARGET = 0.93
STATION_KINDS = (
    "street_block", "rural", "member_studio", "members_home",
    "liaison_group", "village_council", "township_platform", "county_platform",
)  # fmt: skip
FIVE_HAVES = ("venue", "signage", "rules", "activities", "results")
FIVE_HAVES_P = (0.97, 0.93, 0.9, 0.85, 0.75)  # chance that a station meets each
ROLES = ("admin", "leader", "member", "supervisor", "unit")
UNIT_CODES_USED = tuple(N.UNIT_NAMES)  # ('transport', 'water', 'sanitation')


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str  # 'county' | 'township' | 'village'
    kind: str | None  # township: town|xiang|subdistrict; village: village|community
    parent_code: str | None
    boundary: MultiPolygon | None
    location: Point  # the office, inside the boundary


@dataclass(frozen=True)
class StationPlan:
    name: str
    kind: str
    village_code: str | None
    township_code: str
    location: Point
    serves: tuple[str, ...]
    five_haves: dict[str, bool]
    established_on: date
    closed_on: date | None
    convener: str
    address: str


@dataclass(frozen=True)
class DemoUser:
    login: str
    name: str
    role: str
    township_code: str | None
    unit_code: str | None
    sector: str | None


@dataclass(frozen=True)
class County:
    county: Place
    townships: list[Place]
    villages: list[Place]
    stations: list[StationPlan]
    users: list[DemoUser]


def _multi(geom) -> MultiPolygon:
    """Polygonal parts of ``geom`` as a MultiPolygon (drops stray lines and points)."""
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [p for g in getattr(geom, "geoms", []) for p in _multi(g).geoms]
    return MultiPolygon([p for p in parts if not p.is_empty])


def _jitter(rng: random.Random, region, anchor: Point, radius: float) -> Point:
    """A point within ``radius`` of ``anchor`` and inside ``region`` (else the anchor)."""
    for _ in range(12):
        x = round(anchor.x + rng.uniform(-radius, radius), 7)
        y = round(anchor.y + rng.uniform(-radius, radius), 7)
        if region.contains(Point(x, y)):
            return Point(x, y)
    return anchor


def _outline(rng: random.Random) -> Polygon:
    """A smooth star-shaped blob (sum of a few harmonics), scaled to SIZE_DEG."""
    harmonics = [(k, rng.uniform(0.03, 0.09), rng.uniform(0, 2 * math.pi)) for k in range(2, 8)]
    cx, cy = CENTRE
    pts = []
    for i in range(120):
        t = 2 * math.pi * i / 120
        r = 1 + sum(a * math.cos(k * t + ph) for k, a, ph in harmonics)
        pts.append((cx + r * math.cos(t), cy + r * math.sin(t)))
    poly = Polygon(pts)
    x0, y0, x1, y1 = poly.bounds
    return affinity.scale(poly, SIZE_DEG[0] / (x1 - x0), SIZE_DEG[1] / (y1 - y0), origin=CENTRE)


def _darts(rng, region, n, min_d, avoid=(), keep_out=None) -> list[tuple[float, float]]:
    """``n`` random points in ``region`` at least ``min_d`` apart (relaxing if crowded)."""
    x0, y0, x1, y1 = region.bounds
    pts: list[tuple[float, float]] = list(avoid)
    target = len(pts) + n
    while len(pts) < target:
        for _ in range(300):
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if keep_out and math.dist((x, y), keep_out[0]) < keep_out[1]:
                continue
            if not shapely.contains_xy(region, x, y):
                continue
            if all(math.dist((x, y), p) >= min_d for p in pts):
                pts.append((x, y))
                break
        else:
            min_d *= 0.9
    return pts[len(avoid) :]


def _cells(pts, region) -> list[MultiPolygon]:
    """Voronoi cell of each point (same order), clipped to ``region``."""
    x0, y0, x1, y1 = region.bounds
    env = shapely.box(x0 - 0.1, y0 - 0.1, x1 + 0.1, y1 + 0.1)
    cells = list(voronoi_diagram(MultiPoint(pts), envelope=env).geoms)
    out = []
    for x, y in pts:
        cell = next(c for c in cells if c.covers(Point(x, y)))
        out.append(_multi(cell.intersection(region)))
    return out


def _spread(rng, region, n) -> list[tuple[float, float]]:
    """``n`` well-spread points in ``region``: darts, then two Lloyd relaxation steps."""
    pts = _darts(rng, region, n, 0.6 * math.sqrt(region.area / n))
    for _ in range(2):
        new = []
        for cell in _cells(pts, region):
            c = cell.centroid if cell.contains(cell.centroid) else cell.point_on_surface()
            new.append((c.x, c.y))
        pts = new
    return pts


def _person(rng: random.Random, used: set[str] | None = None) -> str:
    """A Chinese personal name (unique within ``used`` when given)."""
    while True:
        given = "".join(rng.choice(N.GIVEN) for _ in range(rng.choice((1, 2, 2))))
        name = rng.choice(N.SURNAMES) + given
        if used is None or name not in used:
            if used is not None:
                used.add(name)
            return name


def _unique_name(rng, used: set[str], community: bool) -> str:
    while True:
        if community:
            name = rng.choice(N.COMMUNITY_FIRST) + rng.choice(N.COMMUNITY_SECOND) + "社区"
        else:
            a, b = rng.choice(N.VILLAGE_FIRST), rng.choice(N.VILLAGE_SECOND)
            name = a + b + "村" if a != b else ""
        if name and name not in used:
            used.add(name)
            return name


def _townships(rng, county: Place, outline) -> list[Place]:
    cx, cy = CENTRE
    a0 = rng.uniform(0, 2 * math.pi)
    centre = []
    for i in range(N_SUBDISTRICTS):  # the urban subdistricts ring the county seat
        a, r = a0 + i * math.pi / 2 + rng.uniform(-0.3, 0.3), rng.uniform(0.016, 0.026)
        centre.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    outer = _darts(rng, outline, N_TOWNS + N_XIANG, 0.08, centre, (CENTRE, 0.07))
    outer.sort(key=lambda p: math.dist(p, CENTRE))  # the remotest become xiang

    def clockwise(p):
        return (math.atan2(p[0] - cx, p[1] - cy)) % (2 * math.pi)

    groups = [
        ("subdistrict", "街道", sorted(centre, key=clockwise), N.SUBDISTRICT_NAMES),
        ("town", "镇", sorted(outer[:N_TOWNS], key=clockwise), N.TOWN_NAMES),
        ("xiang", "乡", sorted(outer[N_TOWNS:], key=clockwise), N.XIANG_NAMES),
    ]
    seeds = [p for _, _, pts, _ in groups for p in pts]
    cells = iter(_cells(seeds, outline))
    out: list[Place] = []
    for kind, suffix, pts, pool in groups:
        for name in rng.sample(pool, len(pts)):
            cell = next(cells)
            office = _jitter(rng, cell, cell.point_on_surface(), 0.15 * math.sqrt(cell.area))
            code = f"{county.code[:6]}{len(out) + 1:03d}000"
            out.append(Place(code, name + suffix, "township", kind, county.code, cell, office))
    return out


def _village_counts(rng, townships: list[Place]) -> list[int]:
    counts = [rng.randint(9, 13) if t.kind == "subdistrict" else 0 for t in townships]
    weight = [0.0 if c else t.boundary.area * (0.75 if t.kind == "xiang" else 1.0)
              for t, c in zip(townships, counts, strict=True)]  # fmt: skip
    rest = VILLAGE_TOTAL - sum(counts)
    shares = [rest * w / sum(weight) for w in weight]
    counts = [c or max(8, int(s)) for c, s in zip(counts, shares, strict=True)]
    by_frac = sorted(range(len(counts)), key=lambda i: (int(shares[i]) - shares[i], i))
    for i in range(VILLAGE_TOTAL - sum(counts)):
        counts[by_frac[i % len(by_frac)]] += 1
    return counts


def _villages(rng, t: Place, n: int, point_only: bool, used: set[str]):
    pts = _spread(rng, t.boundary, n)
    cells = _cells(pts, t.boundary)
    order = sorted(range(n), key=lambda i: (math.dist(pts[i], (t.location.x, t.location.y)), i))
    n_comm = {"subdistrict": n, "town": rng.randint(2, 4), "xiang": 0}[t.kind]
    out: list[Place] = []
    for j, i in enumerate(order):
        cell, kind = cells[i], "community" if j < n_comm else "village"
        office = _jitter(rng, cell, cell.point_on_surface(), 0.2 * math.sqrt(cell.area))
        name = _unique_name(rng, used, kind == "community")
        boundary = None if point_only else cell
        out.append(
            Place(f"{t.code[:9]}{j + 1:03d}", name, "village", kind, t.code, boundary, office)
        )
    nbrs: dict[str, list[str]] = {}
    for v in out:
        if point_only:  # no polygons: the three nearest offices count as neighbours
            near = sorted(out, key=lambda w: (v.location.distance(w.location), w.code))[1:4]
        else:
            near = [w for w in out if w is not v and v.boundary.distance(w.boundary) < 1e-9]
        nbrs[v.code] = [w.code for w in near]
    return out, nbrs


def build_county(seed: int = 2026) -> County:
    """Build the demo county; the same ``seed`` always gives the same county."""
    rng = random.Random(seed)
    outline = _outline(rng)
    office = _jitter(rng, outline, Point(CENTRE), 0.004)
    boundary = MultiPolygon([outline])
    county = Place(N.COUNTY_CODE, N.COUNTY_NAME, "county", None, None, boundary, office)
    townships = _townships(rng, county, outline)
    rural_t = [t for t in townships if t.kind != "subdistrict"]
    no_station = rng.choice([t for t in rural_t if t.kind == "xiang"]).code
    point_only = [t.code for t in rng.sample([t for t in rural_t if t.code != no_station], 2)]

    used: set[str] = set()
    villages: list[Place] = []
    nbrs: dict[str, list[str]] = {}
    for t, n in zip(townships, _village_counts(rng, townships), strict=True):
        vs, nb = _villages(rng, t, n, t.code in point_only, used)
        villages += vs
        nbrs.update(nb)
    stations = _Stations(rng, county, townships, villages, nbrs).build(no_station)
    scope = next(t for t in townships if t.kind == "town" and t.code not in point_only).code
    return County(county, townships, villages, stations, _users(rng, scope))


class _Stations:
    def __init__(self, rng, county, townships, villages, nbrs):
        self.rng, self.county, self.townships, self.villages = rng, county, townships, villages
        self.nbrs = nbrs
        self.by_code = {v.code: v for v in villages}
        self.by_t = {t.code: t for t in townships}
        self.covered: dict[str, bool] = {}  # insertion-ordered, used as an ordered set

    def station(self, kind, name, t, v=None, loc=None, serves=(), start=date(2019, 6, 1)):
        rng = self.rng
        fh = {k: rng.random() < p for k, p in zip(FIVE_HAVES, FIVE_HAVES_P, strict=True)}
        opened = start + timedelta(days=rng.randint(0, 365 if v is None else 6 * 365))
        if kind == "county_platform":
            address = f"{N.COUNTY_NAME}政协机关"
        elif v is None:
            address = N.COUNTY_NAME + t.name + ("办事处" if t.kind == "subdistrict" else "人民政府")
        else:
            address = N.COUNTY_NAME + t.name + v.name
            address += "委会" if v.kind == "village" else "党群服务中心"
        loc = t.location if loc is None else loc
        code = v.code if v else None
        convener = _person(rng)
        return StationPlan(
            name, kind, code, t.code, loc, tuple(serves), fh, opened, None, convener, address
        )

    def at_village(self, kind, v: Place, suffix: str) -> StationPlan:
        """A station in village ``v`` serving it and some of its still unserved neighbours."""
        cands = [c for c in self.nbrs[v.code] if c not in self.covered]
        self.rng.shuffle(cands)
        cands.sort(key=lambda c: self.by_code[c].kind != v.kind)  # prefer the same kind
        serves = [v.code, *cands[: self.rng.randint(*REACH[kind])]]
        self.covered.update(dict.fromkeys(serves, True))
        t = self.by_t[v.parent_code]
        area = t.boundary if v.boundary is None else v.boundary
        loc = _jitter(self.rng, area, v.location, 0.0004 if v.boundary is None else 0.0008)
        return self.station(kind, v.name + suffix, t, v, loc, serves)

    def councils(self, eligible: list[Place], no_station: str) -> list[StationPlan]:
        """Village councils in the least covered townships until COUNCIL_TARGET is served."""
        rng, villages, covered = self.rng, self.villages, self.covered
        by_t = {t.code: [v for v in villages if v.parent_code == t.code] for t in eligible}
        stationed = [v for v in villages if v.parent_code != no_station]
        out = []
        while sum(v.code in covered for v in stationed) < COUNCIL_TARGET * len(stationed):
            t = min(eligible, key=lambda t: (sum(v.code in covered for v in by_t[t.code])
                                             / len(by_t[t.code]), t.code))  # fmt: skip
            free = [v for v in by_t[t.code] if v.code not in covered]
            gain = {v.code: sum(c not in covered for c in self.nbrs[v.code]) for v in free}
            best = [v for v in free if gain[v.code] == max(gain.values())]
            out.append(self.at_village("village_council", rng.choice(best), "村务协商议事会"))
        return out

    def build(self, no_station: str) -> list[StationPlan]:
        rng, by_t, villages = self.rng, self.by_t, self.villages
        seat = next(t for t in self.townships if t.boundary.covers(self.county.location))
        name = N.COUNTY_NAME + "政协有事来协商平台"
        loc, start = self.county.location, date(2019, 1, 2)
        out = [self.station("county_platform", name, seat, None, loc, (), start)]
        for t in self.townships:
            if t.code != no_station:
                out.append(
                    self.station("township_platform", t.name + "协商议事平台", t, start=start)
                )

        comms = [v for v in villages if v.kind == "community"]
        rng.shuffle(comms)
        seat_vs = [
            v for v in villages if v.kind == "village" and by_t[v.parent_code].kind == "town"
        ]
        seat_vs.sort(key=lambda v: (v.code[-3:], v.code))  # near a town seat first
        pool = [v for v in comms + seat_vs if v.parent_code != no_station]
        n = 0
        for v in pool:
            if n < N_STREET_BLOCK and v.code not in self.covered:
                out.append(self.at_village("street_block", v, "街区协商工作站"))
                n += 1

        eligible = [t for t in self.townships if t.kind != "subdistrict" and t.code != no_station]
        rng.shuffle(eligible)
        for i in range(N_RURAL):
            t = eligible[i % len(eligible)]
            free = [v for v in villages if v.parent_code == t.code and v.code not in self.covered]
            free = [v for v in free if v.kind == "village"]
            if free:
                out.append(self.at_village("rural", rng.choice(free), "乡邻协商议事点"))
        out += self.councils(eligible, no_station)
        studio = rng.choice([v for v in comms if by_t[v.parent_code].kind == "subdistrict"])
        out.append(self.at_village("member_studio", studio, "政协委员工作室"))

        last = date(2025, 9, 30)  # closures lie in the past
        old = [
            i
            for i, s in enumerate(out)
            if s.kind in ("street_block", "rural") and s.established_on < date(2024, 1, 1)
        ]
        for i in rng.sample(old, 2):
            days = rng.randint(180, (last - out[i].established_on).days)
            out[i] = replace(out[i], closed_on=out[i].established_on + timedelta(days=days))
        return out


def _users(rng: random.Random, scope: str) -> list[DemoUser]:
    """admin, 2 leaders, 6 members, 2 supervisors, 3 unit staff; member2, supervisor2 scoped."""
    names: set[str] = set()
    sectors = ["中共", *rng.sample(N.SECTORS[1:], 5)]
    rows = [("admin", "admin", None, None, None)]
    rows += [(lg, "leader", None, None, "中共") for lg in ("leader", "leader2")]
    rows += [
        ("member" if i == 0 else f"member{i + 1}", "member", scope if i == 1 else None, None, s)
        for i, s in enumerate(sectors)
    ]
    rows += [("supervisor", "supervisor", None, None, None)]
    rows += [("supervisor2", "supervisor", scope, None, None)]
    rows += [
        ("unit" if i == 0 else f"unit{i + 1}", "unit", None, u, None)
        for i, u in enumerate(UNIT_CODES_USED)
    ]
    return [DemoUser(login, _person(rng, names), *rest) for login, *rest in rows]
