"""Demo visits (about 15): planned, held and cancelled, across townships, made through the
services with the clock set to each day, so that every held visit's outcome really went
through `hold()` and the problems' timelines read in order.

Called by `fieldwatch demo load` after the problems and look-backs; idempotent (a
database that has visits is left alone). Without open problems it plans meetings only.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from fieldwatch import clock
from fieldwatch.extensions import db
from fieldwatch.geo import lonlat_of
from fieldwatch.models import Area, Issue, Station, Unit, User, Visit
from fieldwatch.visits import queries, services

#: topics (定题) by the kind of problems a batch holds
TOPICS = (
    "{town}积水点和排水设施现场协商",
    "{town}老旧小区改造“回头看”走访",
    "{town}道路安全隐患现场督导",
    "{town}人居环境整治分片走访",
    "{town}停车难问题现场协商",
    "{town}民生微实事现场办理",
)
OPINIONS = (
    "与会各方一致同意：责任单位在期限内完成整改，社区每周报告进度，政协委员一个月后回头看。",
    "现场查看后认为问题属实，请承办单位制定方案并公示；群众代表参与验收。",
    "部分问题已列入年度计划，请有关部门向群众说明时间表；其余问题限期办结。",
)
CANCEL_REASONS = (
    "暴雨预警，改期进行",
    "与县人大视察时间冲突，另行安排",
    "承办单位负责人出差，改期",
)


def _at(day, hour: int = 9):
    """The instant at `hour` local time on `day` (the clock for that step)."""
    return datetime.combine(day, time(hour), tzinfo=clock.zone()).astimezone(UTC)


def _open_issues_by_township(before) -> dict[int, list[Issue]]:
    rows = db.session.scalars(
        select(Issue)
        .where(
            # what a visit goes to look at: problems not yet answered (resolved ones await a
            # look-back instead)
            Issue.status.in_(("reported", "accepted", "in_progress")),
            # untouched since before the visit was planned, so its timeline stays in order
            Issue.updated_at < before,
            Issue.township_id.is_not(None),
        )
        .order_by(Issue.id)
    ).all()
    grouped: dict[int, list[Issue]] = {}
    for issue in rows:
        grouped.setdefault(issue.township_id, []).append(issue)
    return grouped


def _batch(issues: list[Issue], rng: random.Random, size: int) -> list[Issue]:
    """Nearby problems: the biggest DBSCAN batch of the township (else a random few)."""
    township = issues[0].township_id
    result = queries.batches(queries.CandidateFilter(township_id=township), eps_m=1500)
    by_id = {i.id: i for i in issues}
    for batch in result["batches"]:
        chosen = [by_id[i] for i in batch["issue_ids"] if i in by_id]
        if len(chosen) >= 2:
            return chosen[:size]
    return rng.sample(issues, min(size, len(issues)))


def _start(township_id: int, stations: list[Station]) -> tuple[dict | None, str | None, int | None]:
    here = [s for s in stations if s.township_id == township_id]
    if here:
        station = here[0]
        lon, lat = lonlat_of(station.location)
        return {"lon": lon, "lat": lat}, station.name, station.id
    office = db.session.get(Area, township_id)
    if office is not None and office.location is not None:
        lon, lat = lonlat_of(office.location)
        return {"lon": lon, "lat": lat}, f"{office.name}办公室", None
    return None, None, None


def _actions(stops: list[Issue], units: list[str], township_unit: str | None, rng) -> list[dict]:
    actions = []
    for issue in stops:
        unit = township_unit if township_unit and rng.random() < 0.4 else rng.choice(units)
        if issue.status == "reported":
            actions.append({"issue_id": issue.id, "to": "accepted", "note": "现场核实属实"})
            actions.append(
                {"issue_id": issue.id, "to": "in_progress", "unit": unit, "note": "现场商定交办"}
            )
        elif issue.status == "accepted":
            actions.append(
                {"issue_id": issue.id, "to": "in_progress", "unit": unit, "note": "现场商定交办"}
            )
        elif issue.status == "in_progress" and rng.random() < 0.6:
            actions.append(
                {"issue_id": issue.id, "to": "in_progress", "unit": unit, "note": "现场协商后转办"}
            )
    return actions


def load(seed: int = 2026) -> int:
    """Plan, hold and cancel about 15 demo visits; return how many were made (0 if any exist)."""
    if db.session.scalar(select(func.count(Visit.id))):
        return 0
    rng = random.Random(seed + 6)
    leaders = db.session.scalars(
        select(User).where(User.role == "leader", User.active).order_by(User.id)
    ).all()
    if not leaders:
        return 0
    members = db.session.scalars(
        select(User.id).where(User.role == "member", User.active).order_by(User.id)
    ).all()
    units = db.session.scalars(
        select(Unit.code).where(Unit.active, Unit.township_id.is_(None)).order_by(Unit.code)
    ).all() or ["water"]
    today = clock.today()
    stations = db.session.scalars(
        select(Station).where(Station.closed_on.is_(None)).order_by(Station.id)
    ).all()
    townships = {
        a.id: a
        for a in db.session.scalars(
            select(Area).where(Area.level == "township").order_by(Area.code)
        )
    }
    made = 0
    # (days from today, kind): held in the past, planned ahead, cancelled
    plan = [(-80, "held"), (-62, "held"), (-45, "held"), (-33, "held"), (-21, "held"),
            (-12, "held"), (-5, "held"), (-40, "cancelled"), (-9, "cancelled"),
            (3, "planned"), (6, "planned"), (10, "planned"), (17, "planned"), (25, "planned"),
            (12, "cancelled")]  # fmt: skip
    used: set[int] = set()
    for index, (offset, kind) in enumerate(plan):
        day = today + timedelta(days=offset)
        planned_on = min(day - timedelta(days=rng.randint(3, 10)), today)
        pool = {
            t: [i for i in issues if i.id not in used]
            for t, issues in _open_issues_by_township(_at(planned_on, 8)).items()
        }
        pool = {t: issues for t, issues in pool.items() if len(issues) >= 2}
        leader = leaders[index % len(leaders)]
        invited = rng.sample(list(members), min(len(members), rng.randint(2, 4)))
        with clock.frozen(_at(planned_on, 10)):
            if pool:
                township_id = sorted(pool)[(index * 7) % len(pool)]
                stops = _batch(pool[township_id], rng, rng.randint(2, 5))
                used.update(i.id for i in stops)
                town = townships[township_id].name
                start, start_label, station_id = _start(township_id, stations)
                township_unit = db.session.scalar(
                    select(Unit.code).where(Unit.township_id == township_id)
                )
                visit = services.create_visit(
                    leader,
                    title=TOPICS[index % len(TOPICS)].format(town=town),
                    form="on_site" if index % 5 else "inspection",
                    planned_for=day,
                    issue_ids=[i.id for i in stops],
                    start=start,
                    start_label=start_label,
                    station_id=station_id,
                    participants={
                        "members": invited,
                        "units": sorted({township_unit or units[0], rng.choice(units)}),
                        "residents": rng.randint(5, 30),
                    },
                    optimise=True,
                )
            else:
                stops, township_unit = [], None
                station = stations[index % len(stations)] if stations else None
                visit = services.create_visit(
                    leader,
                    title=f"{station.name if station else '政协'}会场协商",
                    form="meeting",
                    planned_for=day,
                    station_id=station.id if station else None,
                    participants={"members": invited, "units": units[:2], "residents": 10},
                )
            db.session.flush()
        if kind == "held":
            with clock.frozen(_at(day, 16)):
                services.hold(
                    visit,
                    day,
                    {
                        "members": len(invited) + 1,
                        "officials": rng.randint(2, 6),
                        "residents": rng.randint(5, 30),
                    },
                    rng.choice(OPINIONS),
                    _actions(stops, list(units), township_unit, rng),
                    leader,
                )
        elif kind == "cancelled":
            with clock.frozen(_at(max(planned_on, min(day, today) - timedelta(days=1)), 11)):
                services.cancel(visit, rng.choice(CANCEL_REASONS), leader)
        db.session.flush()
        made += 1
    return made
