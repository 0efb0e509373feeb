"""Map fixtures: problems, stations, visits and look-backs at known points of the small county."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from fieldwatch.extensions import db
from fieldwatch.geo import point_element
from fieldwatch.issues import services as issues
from fieldwatch.models import Followup, Unit, Visit, VisitStop

#: 10:00 in Shanghai on Tuesday 10 March 2026
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
#: the whole small county, and each township's box (tests/conftest.py small_county)
COUNTY = (104.0, 30.0, 104.2, 30.1)
T1_BOX = (104.0, 30.0, 104.1, 30.1)
T2_BOX = (104.1, 30.0, 104.2, 30.1)


@dataclass
class MapData:
    county: object
    people: dict
    issues: dict = field(default_factory=dict)
    stations: dict = field(default_factory=dict)
    visits: dict = field(default_factory=dict)
    followups: dict = field(default_factory=dict)


@pytest.fixture
def mapdata(app, small_county, make_user, freeze) -> MapData:
    """Known things on the map, on 10 March 2026.

    Issues: in T1 `a` and `b` 10 m apart (in progress with water, `a` overdue),
    `c` reopened (in progress with transport), `d` reported, `closed` closed;
    in T2 `e` reported. Stations: `s1` serves V11 (open), `s2` in T2 closed.
    Visits: `planned` (T1, two stops, invites member2), `held_old` (held 200 days ago).
    Look-backs on `closed`: `done` (5 days ago); on `c`: `overdue`; on `d`: `due`.
    """
    from fieldwatch.stations.services import create_station

    freeze(NOW)
    people = {
        "admin": make_user("admin"),
        "leader": make_user("leader"),
        "member": make_user("member"),
        "member2": make_user("member"),
        "t1_member": make_user("member", township=small_county.townships["T1"].code),
        "water": make_user("unit", unit="water"),
        "transport": make_user("unit", unit="transport"),
    }
    data = MapData(small_county, people)
    units = {
        u.code: u.id for u in db.session.query(Unit).filter(Unit.code.in_(["water", "transport"]))
    }

    def issue(key, lon, lat, status="reported", unit=None, due=None, reopen=0, category="roads"):
        made, _ = issues.report_issue(
            people["member"], title=f"问题{key}", category=category, lon=lon, lat=lat
        )
        made.status = status
        made.unit_id = units.get(unit)
        made.due_on = due
        made.reopen_count = reopen
        data.issues[key] = made

    # 0.0001 degrees of latitude is about 11 m
    issue("a", 104.02, 30.05, "in_progress", "water", TODAY - timedelta(days=3))
    issue("b", 104.02, 30.0501, "in_progress", "water", TODAY + timedelta(days=10))
    issue("c", 104.07, 30.03, "in_progress", "transport", TODAY + timedelta(days=5), reopen=1)
    issue("d", 104.04, 30.08, "reported")
    issue("closed", 104.06, 30.06, "closed", "water")
    issue("e", 104.15, 30.05, "reported")

    data.stations["s1"] = create_station(
        "红星村协商工作站", "rural", 104.02, 30.04, village_code="512099001001"
    )
    data.stations["s2"] = create_station(
        "石桥村议事会", "village_council", 104.12, 30.06, closed_on=TODAY - timedelta(days=30)
    )

    t1 = small_county.townships["T1"].id
    planned = Visit(
        title="老旧小区排水现场协商",
        form="on_site",
        status="planned",
        planned_for=TODAY + timedelta(days=7),
        township_id=t1,
        leader_id=people["leader"].id,
        participants={"members": [people["member2"].id], "units": ["water"]},
    )
    planned.stops = [
        VisitStop(
            position=0,
            location=point_element(104.02, 30.05),
            issue_id=data.issues["a"].id,
            township_id=t1,
        ),
        VisitStop(
            position=1,
            location=point_element(104.07, 30.03),
            issue_id=data.issues["c"].id,
            township_id=t1,
        ),
    ]
    held_old = Visit(
        title="去年的走访",
        form="on_site",
        status="held",
        planned_for=TODAY - timedelta(days=200),
        held_on=TODAY - timedelta(days=200),
        township_id=t1,
        leader_id=people["leader"].id,
        participants={},
    )
    held_old.stops = [VisitStop(position=0, location=point_element(104.03, 30.03), township_id=t1)]
    db.session.add_all([planned, held_old])
    data.visits.update(planned=planned, held_old=held_old)

    def followup(key, on, due, done_at=None, finding=None):
        made = Followup(
            issue_id=data.issues[on].id,
            due_on=due,
            done_at=done_at,
            finding=finding,
            township_id=data.issues[on].township_id,
        )
        db.session.add(made)
        data.followups[key] = made

    followup("done", "closed", TODAY - timedelta(days=6), NOW - timedelta(days=5), "solved")
    followup("overdue", "c", TODAY - timedelta(days=2))
    followup("due", "d", TODAY + timedelta(days=20))
    db.session.commit()
    return data
