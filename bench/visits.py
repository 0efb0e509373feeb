"""Rows for on-site visits and their stops: most stops are open problems of the township."""

from __future__ import annotations

import json

import numpy as np

from bench import rows
from bench.issues import LOCAL, Issues
from bench.network import DAY, Lists, People, Stations
from bench.province import Province

FORMS = np.array(("on_site", "inspection", "meeting", "online", "written"), dtype=object)
FORM_SHARE = (0.55, 0.15, 0.15, 0.07, 0.08)
TOPICS = (
    "老旧小区改造",
    "背街小巷整治",
    "农村人居环境",
    "停车难问题",
    "防汛排涝",
    "垃圾分类",
    "养老服务",
    "河道治理",
    "道路通行安全",
)


def visit_tables(
    prov: Province,
    lists: Lists,
    people: People,
    stations: Stations,
    iss: Issues,
    count: int,
    rng,
    as_of: int,
):
    n_t = len(prov.townships.code)
    # visits go where the problems are
    per_town = np.bincount(iss.township, minlength=n_t).astype(float) + 1
    township = rng.choice(n_t, count, p=per_town / per_town.sum())
    status = rng.choice(
        np.array(("planned", "held", "cancelled"), dtype=object), count, p=(0.15, 0.75, 0.10)
    )
    today = (as_of + LOCAL) // DAY
    planned = np.where(
        status == "planned", today + rng.integers(0, 60, count), today - rng.integers(1, 730, count)
    )
    form = FORMS[rng.choice(len(FORMS), count, p=FORM_SHARE)]
    on_site = np.isin(form, ("on_site", "inspection"))
    n_stops = np.where(
        on_site,
        1 + np.minimum(rng.poisson(2, count), 7),
        np.where(rng.random(count) < 0.3, rng.integers(1, 3, count), 0),
    )
    st_order = np.argsort(stations.township, kind="stable")
    st_bounds = np.searchsorted(stations.township[st_order], np.arange(n_t + 1))
    is_order = np.argsort(iss.township, kind="stable")  # by township, then id (= time)
    is_bounds = np.searchsorted(iss.township[is_order], np.arange(n_t + 1))
    per_t = len(prov.villages.code) // n_t

    station = np.full(count, -1)
    start_x = np.full(count, np.nan)
    start_y = np.full(count, np.nan)
    s_visit, s_pos, s_issue, s_x, s_y, s_village, s_label = ([] for _ in range(7))
    for k in range(count):
        t = township[k]
        lo, hi = st_bounds[t], st_bounds[t + 1]
        if hi > lo:
            pick = st_order[rng.integers(lo, hi)]
            station[k] = stations.ids[pick]
            if rng.random() < 0.5:
                start_x[k], start_y[k] = stations.x[pick], stations.y[pick]
        lo, hi = is_bounds[t], is_bounds[t + 1]
        before = lo + np.searchsorted(iss.created[is_order[lo:hi]], planned[k] * DAY - LOCAL)
        for position in range(n_stops[k]):
            s_visit.append(k + 1)
            s_pos.append(position)
            if before > lo and rng.random() < 0.8:
                i = is_order[rng.integers(lo, before)]
                s_issue.append(iss.ids[i])
                s_x.append(iss.x[i])
                s_y.append(iss.y[i])
                s_village.append(iss.village[i])
                s_label.append(None)
            else:
                v = t * per_t + rng.integers(0, per_t)
                box = prov.safe[v]
                s_issue.append(-1)
                s_x.append(rng.uniform(box[0], box[2]))
                s_y.append(rng.uniform(box[1], box[3]))
                s_village.append(v)
                s_label.append(prov.villages.name[v] + "村民小组")

    leaders = people.of("leader")
    leader = rng.choice(leaders, count)
    members = people.of("member")
    participants = [
        json.dumps(
            {
                "members": rng.choice(members, 3).tolist(),
                "units": [lists.unit_code[u] for u in rng.integers(0, len(lists.unit_code), 2)],
                "residents": int(rng.integers(0, 40)),
            }
        )
        for _ in range(count)
    ]
    held = status == "held"
    attendance = [
        json.dumps(
            {"members": int(a), "officials": int(b), "residents": int(c)},
        )
        if h
        else None
        for h, a, b, c in zip(
            held,
            rng.integers(2, 9, count),
            rng.integers(1, 6, count),
            rng.integers(0, 60, count),
            strict=True,
        )
    ]
    created = (planned - rng.integers(3, 30, count)) * DAY - LOCAL + rng.integers(0, DAY, count)
    updated = np.where(held, planned * DAY - LOCAL + 18 * 3600, created)
    topic = rng.integers(0, len(TOPICS), count)
    visits = rows.Table(
        "visits",
        count,
        {
            "id": rows.ints(np.arange(1, count + 1)),
            "title": rows.texts(
                [
                    prov.townships.name[t] + TOPICS[p] + "专题协商"
                    for t, p in zip(township, topic, strict=True)
                ]
            ),
            "form": rows.texts(form),
            "status": rows.texts(status),
            "planned_for": rows.dates(planned),
            "held_on": rows.dates(planned, null=~held),
            "leader_id": rows.ints(leader),
            "station_id": rows.ids(station),
            "township_id": rows.ints(prov.townships.first_id + township),
            "start_location": rows.points(start_x, start_y, null=np.isnan(start_x)),
            "participants": rows.texts(participants),
            "attendance": rows.texts(attendance),
            "opinions": rows.texts(np.where(held, "与会人员充分协商，形成意见三条。", None)),
            "actions": rows.texts(np.where(held, "[]", None)),
            "cancel_reason": rows.texts(np.where(status == "cancelled", "天气原因", None)),
            "created_by_id": rows.ints(leader),
            "created_at": rows.instants(created),
            "updated_at": rows.instants(updated),
        },
    )
    s_village = np.array(s_village, dtype=np.int64)
    stops = rows.Table(
        "visit_stops",
        len(s_visit),
        {
            "id": rows.ints(np.arange(1, len(s_visit) + 1)),
            "visit_id": rows.ints(np.array(s_visit)),
            "position": rows.ints(np.array(s_pos)),
            "issue_id": rows.ids(np.array(s_issue, dtype=np.int64)),
            "location": rows.points(np.array(s_x), np.array(s_y)),
            "label": rows.texts(s_label),
            "area_id": rows.ints(prov.villages.first_id + s_village),
            "township_id": rows.ints(prov.townships.first_id + prov.villages.parent[s_village]),
        },
    )
    return visits, stops
