"""Data for the OGC tests: problems, a visit, look-backs in the small county, with personal data to hunt for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from fieldwatch.geo import point_element
from fieldwatch.issues import services

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
#: strings that must never leave through a layer
PERSONAL = (
    "王小明",
    "13800001111",
    "wxm@example.com",
    "李四",
    "13912345678",
    "lisi@example.com",
    "赵督办",
    "13700000000",
    "张召集",
    "reporter_login",
    "inspector_login",
)


@dataclass
class World:
    county: object
    people: dict
    issues: dict
    visits: dict
    followups: dict


@pytest.fixture(autouse=True)
def _fresh_extents():
    from fieldwatch.ogc import queries

    queries.forget_extents()
    yield
    queries.forget_extents()


@pytest.fixture
def world(app, small_county, make_user, freeze) -> World:
    """Issues in both townships (one from Open311 with a resident's contact), a visit, look-backs."""
    from fieldwatch.extensions import db
    from fieldwatch.models import Followup, Station, Visit, VisitStop

    freeze(NOW)
    reporter = make_user(
        "member",
        login="reporter_login",
        name="王小明",
        phone="13800001111",
        email="wxm@example.com",
    )
    inspector = make_user("supervisor", login="inspector_login", name="赵督办", phone="13700000000")
    admin = make_user("admin")
    people = {"reporter": reporter, "inspector": inspector, "admin": admin}
    issues = {}
    issues["pothole"], _ = services.report_issue(
        reporter,
        title="路面塌陷",
        category="roads",
        lon=104.02,
        lat=30.05,
        description="深约 20 厘米",
    )
    issues["drain"], _ = services.report_issue(
        reporter, title="下水道堵塞", category="drainage", lon=104.07, lat=30.04
    )
    issues["rubbish"], _ = services.report_issue(
        reporter,
        title="空地垃圾",
        category="sanitation",
        lon=104.15,
        lat=30.06,
        source="open311",
        contact_name="李四 <lisi@example.com>",
        contact_phone="13912345678",
    )
    services.transition(issues["drain"], "accepted", admin)
    services.transition(issues["drain"], "in_progress", admin, unit="water")
    services.transition(issues["rubbish"], "rejected", admin, reason="不属实")

    station = Station(
        name="红星村协商工作站",
        kind="rural",
        location=point_element(104.02, 30.06),
        area_id=small_county.villages["V11"].id,
        township_id=small_county.townships["T1"].id,
        convener="张召集",
        local_members="张召集、王五",
        has_venue=True,
        has_signage=True,
        established_on=date(2025, 1, 1),
    )
    db.session.add(station)
    db.session.flush()
    station.serves = [small_county.villages["V11"]]

    visit = Visit(
        title="老旧小区排水",
        form="on_site",
        status="planned",
        planned_for=date(2026, 3, 20),
        leader_id=admin.id,
        township_id=small_county.townships["T1"].id,
        station_id=station.id,
        participants={"members": [reporter.id], "units": ["water"]},
    )
    empty_visit = Visit(
        title="书面协商",
        form="written",
        status="planned",
        planned_for=date(2026, 4, 1),
        township_id=small_county.townships["T2"].id,
    )
    db.session.add_all([visit, empty_visit])
    db.session.flush()
    db.session.add_all(
        [
            VisitStop(
                visit_id=visit.id,
                position=0,
                issue_id=issues["drain"].id,
                location=point_element(104.07, 30.04),
            ),
            VisitStop(
                visit_id=visit.id, position=1, location=point_element(104.03, 30.02), label="路口"
            ),
        ]
    )
    done = Followup(
        issue_id=issues["pothole"].id,
        due_on=date(2026, 3, 1),
        done_at=NOW,
        inspector_id=inspector.id,
        assignee_id=inspector.id,
        location=point_element(104.0205, 30.0502),
        accuracy_m=8.0,
        distance_m=55.0,
        on_site=True,
        finding="solved",
        note="已修复",
        satisfaction="satisfied",
        township_id=small_county.townships["T1"].id,
    )
    overdue = Followup(
        issue_id=issues["drain"].id,
        due_on=date(2026, 3, 5),
        township_id=small_county.townships["T1"].id,
    )
    of_visit = Followup(
        visit_id=visit.id, kind="visit", due_on=date(2026, 4, 20), township_id=visit.township_id
    )
    db.session.add_all([done, overdue, of_visit])
    db.session.commit()
    return World(
        small_county,
        people,
        issues,
        {"visit": visit, "empty": empty_visit, "station": station},
        {"done": done, "overdue": overdue, "of_visit": of_visit},
    )


@pytest.fixture
def admin_headers(world, token_for) -> dict:
    return token_for(world.people["admin"])
