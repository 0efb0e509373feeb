"""Rows for problems and look-backs: a million issues clustered around village offices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench import rows
from bench.network import DAY, Lists, People, person_names
from bench.province import Province

STATUSES = ("reported", "accepted", "in_progress", "resolved", "closed", "rejected", "duplicate")
R, ACC, PROG, RES, CLO, REJ, DUP = range(7)
#: status mix by age: under 30 days, 30-180 days, older
STATUS_BY_AGE = (
    (0.25, 0.18, 0.30, 0.07, 0.08, 0.06, 0.06),
    (0.03, 0.04, 0.20, 0.06, 0.57, 0.05, 0.05),
    (0.01, 0.01, 0.05, 0.02, 0.79, 0.06, 0.06),
)
CATEGORY_SHARE = {
    "roads": 0.16,
    "drainage": 0.10,
    "sanitation": 0.18,
    "parking": 0.10,
    "old_estates": 0.06,
    "safety": 0.07,
    "greening": 0.06,
    "utilities": 0.08,
    "public_services": 0.07,
    "pollution": 0.05,
}
TITLES = {
    "roads": ("路面坑洼破损", "路灯不亮", "人行道砖松动", "交通标线模糊", "桥梁护栏损坏"),
    "drainage": ("雨水井堵塞", "道路积水严重", "排水沟淤塞", "井盖缺失"),
    "sanitation": ("垃圾清运不及时", "垃圾桶破损", "公厕卫生差", "河道漂浮垃圾", "建筑垃圾乱倒"),
    "parking": ("车辆乱停占道", "停车位不足", "消防通道被占"),
    "old_estates": ("楼道照明损坏", "外墙脱落", "屋顶漏水", "加装电梯诉求"),
    "safety": ("电线私拉乱接", "边坡落石隐患", "危房无人管理", "护栏缺失"),
    "greening": ("行道树倒伏", "绿地被毁种菜", "树枝遮挡路灯"),
    "utilities": ("自来水水压低", "停电频繁", "燃气管道老化"),
    "public_services": ("便民服务点无人值守", "健身器材损坏", "公交站牌缺失"),
    "pollution": ("夜间施工噪音", "餐饮油烟扰民", "污水直排"),
    "other": ("群众反映其他问题", "邻里纠纷调解", "政策咨询"),
}
SOURCES = np.array(("field", "visit", "open311", "hotline"), dtype=object)
LOCATION_SOURCES = np.array(("gps", "exif", "manual"), dtype=object)
FINDINGS = np.array(("solved", "partly", "unsolved", "regressed"), dtype=object)
SATISFACTION = np.array(("satisfied", "basically_satisfied", "dissatisfied"), dtype=object)
#: years of history before the as-of date
YEARS = 3
LOCAL = 8 * 3600  # Asia/Shanghai, for dates and the year in refs


@dataclass
class Issues:
    ids: np.ndarray
    village: np.ndarray  # index
    township: np.ndarray  # index
    x: np.ndarray
    y: np.ndarray
    created: np.ndarray
    status: np.ndarray
    category: np.ndarray  # index into Lists
    answer: np.ndarray  # 0 none, 1 A, 2 B, 3 C
    accepted: np.ndarray
    resolved: np.ndarray
    closed: np.ndarray
    due_on: np.ndarray  # days, -1 none
    reopened: np.ndarray
    duplicate_of: np.ndarray  # index of the earlier report, -1 none


def _positions(rng, prov: Province, village: np.ndarray):
    """Around the office, with hot spots (repeat reports), always inside the village."""
    n = len(village)
    box = prov.safe[village]
    wide = np.stack([box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]], axis=1)
    office = prov.villages.office[village]
    n_v = len(prov.villages.code)
    hotspots = (
        prov.villages.office[:, None, :]
        + rng.normal(0, 0.12, (n_v, 3, 2))
        * np.stack([prov.safe[:, 2] - prov.safe[:, 0], prov.safe[:, 3] - prov.safe[:, 1]], 1)[
            :, None, :
        ]
    )
    hot = rng.random(n) < 0.2
    centre = np.where(hot[:, None], hotspots[village, rng.integers(0, 3, n)], office)
    sigma = np.where(hot[:, None], 0.0003, 0.18 * wide)
    xy = centre + rng.normal(0, 1, (n, 2)) * sigma
    outside = (xy[:, 0] < box[:, 0]) | (xy[:, 0] > box[:, 2])
    outside |= (xy[:, 1] < box[:, 1]) | (xy[:, 1] > box[:, 3])
    xy[outside] = box[outside, :2] + rng.random((outside.sum(), 2)) * wide[outside]
    return xy[:, 0], xy[:, 1]


def _after(rng, start: np.ndarray, end: int, most_days: float) -> np.ndarray:
    """A time after `start`, at most `most_days` later and always before `end`."""
    room = (end - start).clip(min=1)
    step = np.minimum(
        rng.random(len(start)) * room, rng.uniform(0.2, 1, len(start)) * most_days * DAY
    )
    return start + step.astype(np.int64)


def make_issues(prov: Province, lists: Lists, n: int, rng, as_of: int) -> Issues:
    n_v = len(prov.villages.code)
    weight = rng.lognormal(0, 0.8, n_v) * np.where(prov.urban, 3.0, 1.0)
    village = np.repeat(np.arange(n_v), rng.multinomial(n, weight / weight.sum()))
    x, y = _positions(rng, prov, village)
    # more reports lately: ages skew young
    created = as_of - (rng.random(n) ** 1.4 * YEARS * 365 * DAY).astype(np.int64) - 60
    order = np.argsort(created, kind="stable")
    village, x, y, created = village[order], x[order], y[order], created[order]

    age = as_of - created
    bucket = np.where(age < 30 * DAY, 0, np.where(age < 180 * DAY, 1, 2))
    status = np.empty(n, dtype=np.int8)
    for b, probs in enumerate(STATUS_BY_AGE):
        sel = bucket == b
        status[sel] = rng.choice(7, sel.sum(), p=probs)
    # a duplicate points at the previous report in the same village; the first cannot be one
    by_village = np.lexsort((np.arange(n), village))
    previous = np.full(n, -1)
    same = village[by_village][1:] == village[by_village][:-1]
    previous[by_village[1:][same]] = by_village[:-1][same]
    status[(status == DUP) & (previous < 0)] = REJ
    previous[status != DUP] = -1

    share = np.array([CATEGORY_SHARE.get(c, 0.0) for c in lists.category_code])
    share = np.where(share == 0, (1 - share.sum()) / max(1, (share == 0).sum()), share)
    category = rng.choice(len(share), n, p=share / share.sum())

    accepted = np.where(np.isin(status, (R, DUP)), -1, _after(rng, created, as_of, 5))
    accepted[(status == REJ) & (rng.random(n) < 0.5)] = -1
    worked = np.isin(status, (PROG, RES, CLO))
    due_on = np.where(worked, (accepted + LOCAL) // DAY + lists.deadline_days[category], -1)
    done = np.isin(status, (RES, CLO))
    resolved = np.where(done, _after(rng, accepted, as_of, 45), -1)
    # what waits for its look-back was mostly resolved lately; a few are long overdue
    waiting = (status == RES) & (rng.random(n) < 0.8)
    recent = as_of - (rng.uniform(0, 45, n) * DAY).astype(np.int64)
    resolved[waiting] = np.maximum(accepted, recent)[waiting]
    closed = np.where(status == CLO, _after(rng, resolved, as_of, 40), -1)
    answer = np.where(done, rng.choice([1, 2, 3], n, p=[0.75, 0.18, 0.07]), 0)
    # a few old issues in progress came back from a failed look-back (rework)
    reopened = (status == PROG) & (age > 90 * DAY) & (rng.random(n) < 0.05)
    resolved[reopened] = _after(rng, accepted[reopened], as_of - 60 * DAY, 30)
    return Issues(
        np.arange(1, n + 1),
        village,
        prov.villages.parent[village],
        x,
        y,
        created,
        status,
        category,
        answer,
        accepted,
        resolved,
        closed,
        due_on,
        reopened,
        previous,
    )


def _refs(created: np.ndarray) -> list[str]:
    """FW-<year>-<n>, n counting up within the (local) year."""
    year = (created + LOCAL).astype("datetime64[s]").astype("datetime64[Y]").astype(int) + 1970
    first = np.searchsorted(year, year)  # created is sorted, so years are too
    serial = np.arange(len(year)) - first + 1
    return [f"FW-{y}-{s:06d}" for y, s in zip(year.tolist(), serial.tolist(), strict=True)]


def issue_table(prov: Province, lists: Lists, people: People, iss: Issues, rng) -> rows.Table:
    n = len(iss.ids)
    titles = {code: TITLES.get(code, TITLES["other"]) for code in lists.category_code}
    pick = rng.integers(0, 5, n)
    place = rng.random(n) < 0.5
    vname, tname = prov.villages.name, prov.townships.name
    title = [
        (vname[v] if p else "") + t[k % len(t)]
        for v, p, k, t in zip(
            iss.village.tolist(),
            place.tolist(),
            pick.tolist(),
            [titles[lists.category_code[c]] for c in iss.category],
            strict=True,
        )
    ]
    described = rng.random(n) < 0.5
    days = rng.integers(1, 60, n)
    description = [
        f"{t}，已持续约{d}天，群众反映强烈，请尽快处理。" if s else None
        for t, d, s in zip(title, days.tolist(), described.tolist(), strict=True)
    ]
    group = rng.integers(1, 12, n)
    address = [
        f"{tname[t]}{vname[v]}{g}组"
        for t, v, g in zip(iss.township.tolist(), iss.village.tolist(), group.tolist(), strict=True)
    ]
    source = SOURCES[rng.choice(4, n, p=[0.7, 0.1, 0.08, 0.12])]
    resident = np.isin(source, ("open311", "hotline"))
    members = people.of("member")
    reporter = np.where(resident, -1, rng.choice(members, n))
    loc_source = LOCATION_SOURCES[rng.choice(3, n, p=[0.75, 0.1, 0.15])]
    accuracy = np.where(loc_source == "gps", rng.lognormal(2.2, 0.6, n), rng.lognormal(3, 0.5, n))
    observed = iss.created - rng.integers(0, 900, n)
    unit = np.where(iss.due_on >= 0, rng.choice(lists.unit_id, n), -1)
    contact = np.full(n, None, dtype=object)
    contact[resident] = person_names(rng, int(resident.sum()))
    phone = np.full(n, None, dtype=object)
    phone[resident] = [f"13{k:09d}" for k in rng.integers(0, 10**9, int(resident.sum()))]
    updated = np.maximum.reduce([iss.created, iss.accepted, iss.resolved, iss.closed])
    ids = iss.ids
    duplicate_of = np.where(iss.duplicate_of >= 0, ids[iss.duplicate_of], -1)
    status = iss.status
    return rows.Table(
        "issues",
        n,
        {
            "id": rows.ints(ids),
            "ref": rows.texts(_refs(iss.created)),
            "title": rows.texts(title),
            "description": rows.texts(description),
            "category_id": rows.ints(lists.category_id[iss.category]),
            "location": rows.points(iss.x, iss.y),
            "accuracy_m": rows.floats(accuracy, 1, null=loc_source == "manual"),
            "location_source": rows.texts(loc_source),
            "address": rows.texts(address),
            "area_id": rows.ints(prov.villages.first_id + iss.village),
            "township_id": rows.ints(prov.townships.first_id + iss.township),
            "reporter_id": rows.ids(reporter),
            "contact_name": rows.texts(contact),
            "contact_phone": rows.texts(phone),
            "source": rows.texts(source),
            "observed_at": rows.instants(observed, null=resident),
            "created_at": rows.instants(iss.created),
            "updated_at": rows.instants(updated),
            "status": rows.texts(np.array(STATUSES, dtype=object)[status]),
            "priority": rows.texts(np.where(rng.random(n) < 0.05, "urgent", "normal")),
            "unit_id": rows.ids(unit),
            "due_on": rows.dates(iss.due_on, null=iss.due_on < 0),
            "answer_class": rows.texts(np.array([None, "A", "B", "C"], dtype=object)[iss.answer]),
            "accepted_at": rows.instants(iss.accepted, null=iss.accepted < 0),
            "resolved_at": rows.instants(iss.resolved, null=iss.resolved < 0),
            "closed_at": rows.instants(iss.closed, null=iss.closed < 0),
            "duplicate_of_id": rows.ids(duplicate_of),
            "reopen_count": rows.ints(iss.reopened.astype(int)),
        },
    )


def _metres(x0, y0, x1, y1) -> np.ndarray:
    """Haversine distance in metres."""
    lon0, lat0, lon1, lat1 = map(np.radians, (x0, y0, x1, y1))
    a = (
        np.sin((lat1 - lat0) / 2) ** 2
        + np.cos(lat0) * np.cos(lat1) * np.sin((lon1 - lon0) / 2) ** 2
    )
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))


def followup_table(
    prov: Province, lists: Lists, people: People, iss: Issues, total: int, rng, as_of: int
) -> rows.Table:
    """Look-backs: pending for resolved issues (due or overdue), done for some closed ones
    (solved) and for reworked ones (not solved, with the next one pending)."""
    lookback = lists.lookback_days[iss.category]
    res_day = (iss.resolved + LOCAL) // DAY
    pending = np.flatnonzero((iss.status == RES) & np.isin(iss.answer, (1, 2)))
    rework = np.flatnonzero(iss.reopened)
    closed = np.flatnonzero((iss.status == CLO) & np.isin(iss.answer, (1, 2)))
    n_done = int(np.clip(total - len(pending) - 2 * len(rework), 0, len(closed)))
    solved = np.sort(rng.choice(closed, n_done, replace=False))
    # the failed look-back was lately (rework resolved at least 60 days before as_of)
    rework_done = as_of - (rng.uniform(1, 60, len(rework)) * DAY).astype(np.int64)

    issue = np.concatenate([pending, solved, rework, rework])
    kind = ["scheduled"] * (len(pending) + len(solved) + len(rework)) + ["rework"] * len(rework)
    a_due = res_day + lookback
    b_due = np.where(iss.due_on >= 0, iss.due_on, a_due)
    due = np.where(iss.answer == 2, b_due, a_due)[issue]
    n_rw = len(rework)
    next_due = (rework_done + LOCAL) // DAY + lookback[rework]
    due[len(due) - n_rw :] = next_due
    done_at = np.concatenate(
        [np.full(len(pending), -1), iss.closed[solved], rework_done, np.full(n_rw, -1)]
    )
    finding = np.concatenate(
        [
            np.full(len(pending), None, dtype=object),
            np.full(len(solved), "solved", dtype=object),
            FINDINGS[rng.integers(1, 4, n_rw)],
            np.full(n_rw, None, dtype=object),
        ]
    )
    n = len(issue)
    done = done_at >= 0
    # the inspector's fix: usually at the spot, sometimes far, sometimes none
    far = rng.random(n) < 0.07
    offset = np.where(far, rng.uniform(0.003, 0.02, n), rng.normal(0, 0.00025, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    fx = iss.x[issue] + offset * np.cos(angle)
    fy = iss.y[issue] + offset * np.sin(angle)
    no_fix = ~done | (rng.random(n) < 0.03)
    distance = _metres(iss.x[issue], iss.y[issue], fx, fy)
    on_site = np.where(no_fix, False, distance <= 200)
    members = people.of("member")
    inspector = np.where(done, rng.choice(members, n), -1)
    assignee = np.where(rng.random(n) < 0.5, rng.choice(members, n), -1)
    satisfaction = np.where(done, SATISFACTION[rng.choice(3, n, p=[0.7, 0.22, 0.08])], None)
    created = iss.resolved[issue].copy()
    created[n - n_rw :] = rework_done
    note = np.where(done, "现场查看，群众反映情况已核实。", None)
    return rows.Table(
        "followups",
        n,
        {
            "id": rows.ints(np.arange(1, n + 1)),
            "issue_id": rows.ints(iss.ids[issue]),
            "kind": rows.texts(np.array(kind, dtype=object)),
            "due_on": rows.dates(due),
            "done_at": rows.instants(done_at, null=~done),
            "assignee_id": rows.ids(assignee),
            "inspector_id": rows.ids(inspector),
            "location": rows.points(fx, fy, null=no_fix),
            "accuracy_m": rows.floats(rng.lognormal(2.2, 0.6, n), 1, null=no_fix),
            "distance_m": rows.floats(distance, 1, null=no_fix),
            "on_site": rows.texts(np.where(done, np.where(on_site, "t", "f"), None)),
            "finding": rows.texts(finding),
            "note": rows.texts(note),
            "satisfaction": rows.texts(satisfaction),
            "area_id": rows.ints(prov.villages.first_id + iss.village[issue]),
            "township_id": rows.ints(prov.townships.first_id + iss.township[issue]),
            "created_by_id": rows.ids(inspector),
            "created_at": rows.instants(created),
        },
    )
