"""Rows for places, people and stations: areas, users, stations and whom they serve."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench import rows
from bench.province import Province
from fieldwatch.demo import names

DAY = 86_400
SECTORS = names.SECTORS
#: share of users by role (the rest are members)
ROLE_SHARES = (("admin", 0.002), ("leader", 0.05), ("supervisor", 0.03), ("unit", 0.10))
VILLAGE_STATION_KINDS = ("village_council", "rural", "liaison_group", "members_home")
COMMUNITY_STATION_KINDS = ("street_block", "member_studio", "members_home", "liaison_group")


@dataclass
class Lists:
    """What the migrations seeded: categories and units."""

    category_id: np.ndarray
    category_code: list[str]
    deadline_days: np.ndarray
    lookback_days: np.ndarray
    unit_id: np.ndarray
    unit_code: list[str]


@dataclass
class People:
    ids: np.ndarray
    role: np.ndarray

    def of(self, role: str) -> np.ndarray:
        found = self.ids[self.role == role]
        return found if len(found) else self.ids


@dataclass
class Stations:
    ids: np.ndarray
    township: np.ndarray  # township index, -1 for county platforms
    x: np.ndarray
    y: np.ndarray


def person_names(rng, n: int) -> list[str]:
    sur = rng.integers(0, len(names.SURNAMES), n)
    g1 = rng.integers(0, len(names.GIVEN), n)
    g2 = rng.integers(-len(names.GIVEN) // 2, len(names.GIVEN), n)  # about a third have one
    return [
        names.SURNAMES[a] + names.GIVEN[b] + (names.GIVEN[c] if c >= 0 else "")
        for a, b, c in zip(sur, g1, g2, strict=True)
    ]


def area_table(prov: Province) -> rows.Table:
    levels = [("county", prov.counties, None), ("township", prov.townships, prov.counties)]
    levels.append(("village", prov.villages, prov.townships))
    ids, code, name, level, kind, parent, boundary, x, y = ([] for _ in range(9))
    for label, places, above in levels:
        n = len(places.code)
        ids.append(places.ids)
        code += places.code
        name += places.name
        level += [label] * n
        kind += places.kind
        parent.append(places.parent + above.first_id if above else np.full(n, -1))
        boundary += places.boundary
        x.append(places.office[:, 0])
        y.append(places.office[:, 1])
    x, y = np.concatenate(x), np.concatenate(y)
    return rows.Table(
        "areas",
        len(code),
        {
            "id": rows.ints(np.concatenate(ids)),
            "code": rows.texts(code),
            "name": rows.texts(name),
            "level": rows.texts(level),
            "kind": rows.texts(kind),
            "parent_id": rows.ids(np.concatenate(parent)),
            "boundary": rows.texts(boundary),
            "location": rows.points(x, y),
        },
    )


def user_table(prov: Province, lists: Lists, count: int, rng, as_of: int):
    """Users (no passwords: nobody signs in as them) and who is who."""
    role = np.full(count, "member", dtype=object)
    start = 0
    for name, share in ROLE_SHARES:
        n = max(1, round(count * share))
        role[start : start + n] = name
        start += n
    rng.shuffle(role)
    ids = np.arange(1, count + 1)
    n_t = len(prov.townships.code)
    scoped = (role == "leader") & (rng.random(count) < 0.5)
    township = np.where(scoped, prov.townships.first_id + rng.integers(0, n_t, count), -1)
    unit = np.where(role == "unit", rng.choice(lists.unit_id, count), -1)
    sector = [SECTORS[k] for k in rng.integers(0, len(SECTORS), count)]
    phone = [f"13{k:09d}" for k in rng.integers(0, 10**9, count)]
    created = as_of - rng.integers(30 * DAY, 4 * 365 * DAY, count)
    table = rows.Table(
        "users",
        count,
        {
            "id": rows.ints(ids),
            "login": rows.texts([f"{r}{i:05d}" for r, i in zip(role, ids, strict=True)]),
            "name": rows.texts(person_names(rng, count)),
            "role": rows.texts(role),
            "sector": rows.texts(sector),
            "township_id": rows.ids(township),
            "unit_id": rows.ids(unit),
            "phone": rows.texts(phone),
            "active": rows.const("t"),
            "session_version": rows.const("0"),
            "notify": rows.const("{}"),
            "created_at": rows.instants(created),
        },
    )
    return table, People(ids, role)


def _near(rng, prov: Province, village: np.ndarray, metres: float):
    """Points near the villages' offices, kept inside the villages."""
    box = prov.safe[village]
    office = prov.villages.office[village]
    spread = metres / 100_000
    x = np.clip(office[:, 0] + rng.normal(0, spread, len(village)), box[:, 0], box[:, 2])
    y = np.clip(office[:, 1] + rng.normal(0, spread, len(village)), box[:, 1], box[:, 3])
    return x, y


def station_tables(prov: Province, people: People, count: int, rng, as_of: int):
    """Stations: a platform per county and most townships, the rest in villages."""
    n_c, n_t, n_v = len(prov.counties.code), len(prov.townships.code), len(prov.villages.code)
    n_county = min(n_c, count // 20)
    n_township = min(int(n_t * 0.85), (count - n_county) // 4)
    n_village = count - n_county - n_township
    town_pick = np.sort(rng.choice(n_t, n_township, replace=False))
    village = rng.integers(0, n_v, n_village)
    v_town = prov.villages.parent[village]
    kind_pool = np.where(
        np.array(prov.villages.kind)[village] == "community",
        np.array(COMMUNITY_STATION_KINDS, dtype=object)[rng.integers(0, 4, n_village)],
        np.array(VILLAGE_STATION_KINDS, dtype=object)[rng.integers(0, 4, n_village)],
    )
    vx, vy = _near(rng, prov, village, 150)
    first_village = np.searchsorted(prov.villages.parent, np.arange(n_t))
    tx, ty = _near(rng, prov, first_village[town_pick], 80)
    cx, cy = prov.counties.office[:n_county, 0], prov.counties.office[:n_county, 1]

    kind = np.concatenate([["county_platform"] * n_county, ["township_platform"] * n_township])
    kind = np.concatenate([kind.astype(object), kind_pool])
    x, y = np.concatenate([cx, tx, vx]), np.concatenate([cy, ty, vy])
    area = np.concatenate(
        [prov.counties.ids[:n_county], prov.townships.ids[town_pick], prov.villages.ids[village]]
    )
    township_index = np.concatenate([np.full(n_county, -1), town_pick, v_town])
    township = np.where(township_index >= 0, prov.townships.first_id + township_index, -1)
    ids = np.arange(1, count + 1)
    place_name = (
        [prov.counties.name[k] for k in range(n_county)]
        + [prov.townships.name[t] for t in town_pick]
        + [prov.villages.name[v] for v in village]
    )
    label = {
        "county_platform": "委员履职平台",
        "township_platform": "协商议事平台",
        "village_council": "村务协商议事会",
        "rural": "乡邻协商议事点",
        "liaison_group": "委员联络组",
        "members_home": "委员之家",
        "street_block": "街区协商议事点",
        "member_studio": "委员工作室",
    }
    station_name = [p + label[k] for p, k in zip(place_name, kind, strict=True)]
    established = as_of // DAY - rng.integers(60, 7 * 365, count)
    closed = np.where(
        rng.random(count) < 0.04, established + rng.integers(30, 365, count), -1
    ).clip(max=as_of // DAY - 1)
    closed = np.where(closed <= established, -1, closed)
    haves = {
        f: rng.random(count) < p for f, p in zip(FIVE, (0.9, 0.8, 0.75, 0.7, 0.6), strict=True)
    }
    created = established * DAY + rng.integers(0, DAY, count)
    stations = rows.Table(
        "stations",
        count,
        {
            "id": rows.ints(ids),
            "name": rows.texts(station_name),
            "kind": rows.texts(kind),
            "location": rows.points(x, y),
            "address": rows.texts([f"{p}便民服务中心" for p in place_name]),
            "area_id": rows.ints(area),
            "township_id": rows.ids(township),
            **{f"has_{f}": rows.bools(haves[f]) for f in FIVE},
            "established_on": rows.dates(established),
            "closed_on": rows.dates(closed, null=closed < 0),
            "convener": rows.texts(person_names(rng, count)),
            "local_members": rows.texts(["、".join(person_names(rng, 3)) for _ in range(count)]),
            "created_at": rows.instants(created),
            "updated_at": rows.instants(created),
        },
    )
    serves = _serves(prov, rng, ids, n_county, n_township, town_pick, village)
    return stations, serves, Stations(ids, township_index, x, y)


FIVE = ("venue", "signage", "rules", "activities", "results")


def _serves(prov, rng, ids, n_county, n_township, town_pick, village) -> rows.Table:
    """Village stations serve their own village and sometimes a neighbour or two in the
    township; township platforms list a few villages; county platforms none."""
    per_t = len(prov.villages.code) // len(prov.townships.code)
    v_station = ids[n_county + n_township :]
    pairs = [np.stack([v_station, prov.villages.ids[village]], axis=1)]
    extra = rng.random(len(village)) < 0.2
    for _ in range(2):
        sibling = prov.villages.parent[village] * per_t + rng.integers(0, per_t, len(village))
        pairs.append(np.stack([v_station, prov.villages.ids[sibling]], axis=1)[extra])
        extra &= rng.random(len(village)) < 0.5
    t_station = ids[n_county : n_county + n_township]
    listed = rng.integers(0, 4, n_township)
    for k in range(3):
        has = listed > k
        member = town_pick * per_t + rng.integers(0, per_t, n_township)
        pairs.append(np.stack([t_station, prov.villages.ids[member]], axis=1)[has])
    pairs = np.unique(np.concatenate(pairs), axis=0)
    return rows.Table(
        "station_serves",
        len(pairs),
        {"station_id": rows.ints(pairs[:, 0]), "area_id": rows.ints(pairs[:, 1])},
    )
