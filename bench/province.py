"""The places of a synthetic province: counties, townships and villages with polygons.

A lattice of village cells covers 102–108E, 27–33N. Its lines are warped so that
cells crowd around a few city centres (Chengdu first): there villages are
urban communities of about 1 km², in the countryside 3–5 km². Each cell edge is
a wavy polyline shared by its two neighbours, so villages tile their township
exactly, townships tile their county, and a point inside a village's "safe box"
(the cell shrunk by the most an edge can wander) lies inside its village, its
township and its county. Everything follows from the seed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from fieldwatch.demo import names

EXTENT = (102.0, 27.0, 108.0, 33.0)
#: village lattice of the whole province: 150 x 200 cells = 30,000 villages
LATTICE = (150, 200)
#: (lon, lat, strength, sigma in degrees) of the centres the lattice crowds around
CITIES = (
    (104.07, 30.66, 6.0, 0.18),  # Chengdu
    (104.74, 31.46, 2.0, 0.10),  # Mianyang
    (106.11, 30.84, 2.0, 0.10),  # Nanchong
    (103.76, 29.55, 1.5, 0.10),  # Leshan
    (104.62, 28.77, 1.5, 0.10),  # Yibin
    (104.40, 31.13, 1.5, 0.08),  # Deyang
)
#: how far an edge may wander from its straight line, as a share of the smaller cell side
WAVE = 0.08
#: segments per cell edge (a village ring has 4 * SEGMENTS + 1 points)
SEGMENTS = 10


@dataclass(frozen=True)
class Scale:
    """How big a province to make: a window of the lattice and the activity in it."""

    name: str
    counties: tuple[int, int]  # county blocks (columns, rows)
    townships: tuple[int, int]  # townships per county (columns, rows)
    villages: tuple[int, int]  # villages per township (columns, rows)
    stations: int
    issues: int
    visits: int
    followups: int
    users: int

    @property
    def cells(self) -> tuple[int, int]:
        return (
            self.counties[0] * self.townships[0] * self.villages[0],
            self.counties[1] * self.townships[1] * self.villages[1],
        )

    @property
    def n_counties(self) -> int:
        return self.counties[0] * self.counties[1]

    @property
    def n_townships(self) -> int:
        return self.n_counties * self.townships[0] * self.townships[1]

    @property
    def n_villages(self) -> int:
        return self.n_townships * self.villages[0] * self.villages[1]


SCALES = {
    "full": Scale("full", (10, 10), (3, 5), (5, 4), 20_000, 1_000_000, 20_000, 100_000, 3_000),
    "small": Scale("small", (2, 1), (3, 5), (5, 4), 400, 20_000, 400, 2_000, 200),
    "tiny": Scale("tiny", (1, 1), (2, 1), (2, 2), 12, 500, 6, 40, 20),
}


@dataclass
class Level:
    """One level of places, as parallel arrays (index i has id `first_id + i`)."""

    first_id: int
    code: list[str]
    name: list[str]
    kind: list[str | None]
    parent: np.ndarray  # index into the level above (-1 for none)
    boundary: list[str]  # hex EWKB MultiPolygon
    office: np.ndarray  # (n, 2) lon, lat

    @property
    def ids(self) -> np.ndarray:
        return self.first_id + np.arange(len(self.code))


@dataclass
class Province:
    scale: Scale
    counties: Level
    townships: Level
    villages: Level
    #: per village: safe box (x0, y0, x1, y1) inside which any point is inside the village
    safe: np.ndarray
    #: per village: whether it is an urban community
    urban: np.ndarray

    @property
    def extent(self) -> tuple[float, float, float, float]:
        return (
            float(self.safe[:, 0].min()),
            float(self.safe[:, 1].min()),
            float(self.safe[:, 2].max()),
            float(self.safe[:, 3].max()),
        )


def _lines(n: int, lo: float, hi: float, centres: list[tuple[float, float, float]]) -> np.ndarray:
    """Place n+1 lattice lines between lo and hi, crowded where the density is high."""
    xs = np.linspace(lo, hi, 200_001)
    density = np.ones_like(xs)
    for centre, strength, sigma in centres:
        density += strength * np.exp(-((xs - centre) ** 2) / (2 * sigma**2))
    cum = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2)])
    return np.interp(np.linspace(0.0, 1.0, n + 1), cum / cum[-1], xs)


def _window(scale: Scale) -> tuple[np.ndarray, np.ndarray, float]:
    """Return the lattice lines (x, y) of the scale's window (centred on Chengdu when
    partial) and the median cell area of the whole province."""
    x_all = _lines(LATTICE[0], EXTENT[0], EXTENT[2], [(c[0], c[2], c[3]) for c in CITIES])
    y_all = _lines(LATTICE[1], EXTENT[1], EXTENT[3], [(c[1], c[2], c[3]) for c in CITIES])
    nx, ny = scale.cells
    if nx > LATTICE[0] or ny > LATTICE[1]:
        raise ValueError(f"scale {scale.name} is larger than the province lattice")
    col0 = int(np.clip(np.searchsorted(x_all, CITIES[0][0]) - nx // 2, 0, LATTICE[0] - nx))
    row0 = int(np.clip(np.searchsorted(y_all, CITIES[0][1]) - ny // 2, 0, LATTICE[1] - ny))
    median = float(np.median(np.diff(x_all)[:, None] * np.diff(y_all)[None, :]))
    return x_all[col0 : col0 + nx + 1], y_all[row0 : row0 + ny + 1], median


def _wave(rng: np.random.Generator, count: int) -> np.ndarray:
    """Offsets in [-1, 1] along each of `count` edges, zero at both ends."""
    t = np.linspace(0.0, 1.0, SEGMENTS + 1)
    coef = rng.uniform(-1.0, 1.0, size=(count, 3)) / 3
    harmonics = np.stack([np.sin(np.pi * k * t) for k in (1, 2, 3)])
    return coef @ harmonics


def _edges(rng, xl: np.ndarray, yl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wavy edges: H[j, i] runs along y=yl[j] over cell column i; V[i, j] along x=xl[i]."""
    nx, ny = len(xl) - 1, len(yl) - 1
    w, h = np.diff(xl), np.diff(yl)
    t = np.linspace(0.0, 1.0, SEGMENTS + 1)
    # the amplitude keeps each edge inside both neighbouring cells' margins
    h_pad = np.concatenate([[np.inf], h, [np.inf]])
    amp_h = WAVE * np.minimum(w[None, :], np.minimum(h_pad[:-1], h_pad[1:])[:, None])
    H = np.empty((ny + 1, nx, SEGMENTS + 1, 2))
    H[..., 0] = xl[None, :-1, None] + w[None, :, None] * t
    H[..., 1] = yl[:, None, None] + amp_h[..., None] * _wave(rng, (ny + 1) * nx).reshape(
        ny + 1, nx, -1
    )
    w_pad = np.concatenate([[np.inf], w, [np.inf]])
    amp_v = WAVE * np.minimum(h[None, :], np.minimum(w_pad[:-1], w_pad[1:])[:, None])
    V = np.empty((nx + 1, ny, SEGMENTS + 1, 2))
    V[..., 1] = yl[None, :-1, None] + h[None, :, None] * t
    V[..., 0] = xl[:, None, None] + amp_v[..., None] * _wave(rng, (nx + 1) * ny).reshape(
        nx + 1, ny, -1
    )
    return H, V


def _ring(H, V, i0: int, i1: int, j0: int, j1: int) -> np.ndarray:
    """The closed outer ring (counter-clockwise) of the block of cells [i0, i1) x [j0, j1)."""
    bottom = H[j0, i0:i1, :-1].reshape(-1, 2)
    right = V[i1, j0:j1, :-1].reshape(-1, 2)
    top = H[j1, i0:i1][::-1, ::-1][:, :-1].reshape(-1, 2)
    left = V[i0, j0:j1][::-1, ::-1][:, :-1].reshape(-1, 2)
    return np.concatenate([bottom, right, top, left, bottom[:1]])


_MULTIPOLYGON_HEAD = struct.Struct("<BIIIBIII")


def ewkb_multipolygon(ring: np.ndarray) -> str:
    """Hex EWKB of a one-ring MultiPolygon in EPSG:4326 (what COPY takes for geometry)."""
    head = _MULTIPOLYGON_HEAD.pack(1, 0x20000006, 4326, 1, 1, 3, 1, len(ring))
    return (head + np.ascontiguousarray(ring, dtype="<f8").tobytes()).hex()


def _pick(rng, pool, count: int) -> list[str]:
    return [pool[k] for k in rng.integers(0, len(pool), count)]


def build(scale: Scale, seed: int) -> Province:
    """Make the province's places for `scale` (the same seed gives the same places)."""
    rng = np.random.default_rng(seed)
    xl, yl, median_area = _window(scale)
    H, V = _edges(rng, xl, yl)
    w, h = np.diff(xl), np.diff(yl)
    nx, ny = len(w), len(h)
    (tx, ty), (vx, vy) = scale.townships, scale.villages
    (cx, cy) = scale.counties

    # villages, ordered county by county, township by township
    cols, rows, t_of_v, c_of_t = [], [], [], []
    t_index = 0
    for cj in range(cy):
        for ci in range(cx):
            for tj in range(ty):
                for ti in range(tx):
                    c_of_t.append(cj * cx + ci)
                    for vj in range(vy):
                        for vi in range(vx):
                            cols.append((ci * tx + ti) * vx + vi)
                            rows.append((cj * ty + tj) * vy + vj)
                            t_of_v.append(t_index)
                    t_index += 1
    cols, rows = np.array(cols), np.array(rows)
    t_of_v, c_of_t = np.array(t_of_v), np.array(c_of_t)
    n_v, n_t, n_c = len(cols), t_index, cx * cy

    x0 = xl[cols] + WAVE * w[cols] + 1e-7
    x1 = xl[cols + 1] - WAVE * w[cols] - 1e-7
    y0 = yl[rows] + WAVE * h[rows] + 1e-7
    y1 = yl[rows + 1] - WAVE * h[rows] - 1e-7
    safe = np.stack([x0, y0, x1, y1], axis=1)
    area = w[cols] * h[rows]
    urban = area < 0.35 * median_area
    # the committee office: near the middle of the cell
    office = np.stack(
        [
            x0 + (x1 - x0) * rng.uniform(0.3, 0.7, n_v),
            y0 + (y1 - y0) * rng.uniform(0.3, 0.7, n_v),
        ],
        axis=1,
    )

    # township kinds: urban townships are subdistricts, the rest towns and xiang
    t_urban = np.bincount(t_of_v, weights=urban, minlength=n_t) / (vx * vy) >= 0.5
    t_kind = np.where(t_urban, "subdistrict", np.where(rng.random(n_t) < 0.7, "town", "xiang"))
    # the seat village of each township (its first) is a community; urban ones are too
    first_of_t = np.arange(n_t) * vx * vy
    v_kind = np.where(urban, "community", "village")
    v_kind[first_of_t] = "community"

    county_codes = [f"51{k // 10 + 1:02d}{k % 10 + 1:02d}000000" for k in range(n_c)]
    t_codes, serial = [], {}
    for t in range(n_t):
        county = c_of_t[t]
        base = {"subdistrict": 1, "town": 100, "xiang": 200}[t_kind[t]]
        n = serial[(county, base)] = serial.get((county, base), base - 1) + 1
        t_codes.append(f"{county_codes[county][:6]}{n:03d}000")
    v_codes, serial = [], {}
    for v in range(n_v):
        t = t_of_v[v]
        base = 1 if v_kind[v] == "community" else 200
        n = serial[(t, base)] = serial.get((t, base), base - 1) + 1
        v_codes.append(f"{t_codes[t][:9]}{n:03d}")

    first = rng.integers(0, len(names.VILLAGE_FIRST), n_v)
    second = rng.integers(0, len(names.VILLAGE_SECOND), n_v)
    c_first = rng.integers(0, len(names.COMMUNITY_FIRST), n_v)
    c_second = rng.integers(0, len(names.COMMUNITY_SECOND), n_v)
    v_names = [
        names.COMMUNITY_FIRST[c_first[v]] + names.COMMUNITY_SECOND[c_second[v]] + "社区"
        if v_kind[v] == "community"
        else names.VILLAGE_FIRST[first[v]] + names.VILLAGE_SECOND[second[v]] + "村"
        for v in range(n_v)
    ]
    pool = names.TOWN_NAMES + names.XIANG_NAMES + names.SUBDISTRICT_NAMES
    suffix = {"subdistrict": "街道", "town": "镇", "xiang": "乡"}
    t_names = [p + suffix[k] for p, k in zip(_pick(rng, pool, n_t), t_kind, strict=True)]
    c_names = [p + ("区" if k % 3 == 0 else "县") for k, p in enumerate(_pick(rng, pool, n_c))]

    v_rings = [
        ewkb_multipolygon(_ring(H, V, c, c + 1, r, r + 1)) for c, r in zip(cols, rows, strict=True)
    ]
    t_rings, t_office = [], np.empty((n_t, 2))
    for t in range(n_t):
        members = slice(t * vx * vy, (t + 1) * vx * vy)
        c0, r0 = cols[members].min(), rows[members].min()
        t_rings.append(ewkb_multipolygon(_ring(H, V, c0, c0 + vx, r0, r0 + vy)))
        t_office[t] = office[first_of_t[t]]
    c_rings, c_office = [], np.empty((n_c, 2))
    bw, bh = tx * vx, ty * vy
    for k in range(n_c):
        c0, r0 = (k % cx) * bw, (k // cx) * bh
        c_rings.append(ewkb_multipolygon(_ring(H, V, c0, c0 + bw, r0, r0 + bh)))
        c_office[k] = t_office[np.flatnonzero(c_of_t == k)[0]]

    counties = Level(1, county_codes, c_names, [None] * n_c, np.full(n_c, -1), c_rings, c_office)
    townships = Level(
        1 + n_c, t_codes, t_names, [str(k) for k in t_kind], c_of_t, t_rings, t_office
    )
    villages = Level(
        1 + n_c + n_t, v_codes, v_names, [str(k) for k in v_kind], t_of_v, v_rings, office
    )
    assert nx * ny == n_v
    return Province(scale, counties, townships, villages, safe, urban)
