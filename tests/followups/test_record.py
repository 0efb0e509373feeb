"""Recording a look-back: distance and on-site marking, refusals that change nothing, replays."""

from datetime import date, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy import func, select

from fieldwatch.errors_core import Conflict, Forbidden, ValidationError
from fieldwatch.extensions import db
from fieldwatch.followups.services import record_followup, schedule_followup
from fieldwatch.geo import lonlat_of
from fieldwatch.models import AuditLog, Followup, IssueEvent, Visit, VisitStop

ISSUE = (104.02, 30.05)


def snapshot(issue, followup) -> tuple:
    """Everything a refused recording must leave as it was."""
    db.session.refresh(issue)
    db.session.refresh(followup)
    events = db.session.scalar(select(func.count()).where(IssueEvent.issue_id == issue.id))
    looks = db.session.scalar(select(func.count()).where(Followup.issue_id == issue.id))
    return (
        issue.status,
        issue.reopen_count,
        issue.closed_at,
        followup.done_at,
        followup.finding,
        followup.inspector_id,
        followup.client_id,
        events,
        looks,
    )


@pytest.mark.parametrize(
    ("metres", "on_site"), [(0, True), (150, True), (199, True), (200, True), (201, False)]
)
def test_on_site_within_the_configured_distance(make_issue, people, lb, metres, on_site):
    issue = make_issue("resolved", lon=ISSUE[0], lat=ISSUE[1])
    [check] = lb.pending(issue)
    here = lb.north(*ISSUE, metres)
    record_followup(check, people["member"], "solved", here[0], here[1], 6.5)
    assert check.on_site is on_site
    assert check.distance_m == pytest.approx(metres, abs=0.15)
    assert Point(lonlat_of(check.location)).distance(Point(here)) < 1e-9
    assert check.accuracy_m == 6.5
    assert issue.status == "closed"  # counted whether on site or not


def test_with_no_position_it_is_kept_counted_and_marked_off_site(make_issue, people, lb):
    issue = make_issue("resolved")
    [check] = lb.pending(issue)
    record_followup(check, people["member"], "partly", None, None, None, "远程电话回访")
    assert check.done_at == lb.NOW and check.finding == "partly"
    assert check.on_site is False and check.distance_m is None and check.location is None
    assert issue.status == "in_progress"


def test_the_configured_distance_applies(make_issue, people, lb, app):
    app.config["ONSITE_DISTANCE_M"] = 50.0
    try:
        issue = make_issue("resolved")
        [check] = lb.pending(issue)
        here = lb.north(*ISSUE, 60)
        record_followup(check, people["member"], "solved", *here)
        assert check.on_site is False
    finally:
        app.config["ONSITE_DISTANCE_M"] = 200.0


def test_what_a_record_stores(make_issue, people, lb, small_county):
    issue = make_issue("resolved")
    [check] = lb.pending(issue)
    record_followup(
        check,
        people["leader"],
        "solved",
        "104.0201",
        "30.0501",
        "12",
        "  井盖已更换为防坠网  ",
        "basically_satisfied",
        "lookback-0001",
    )
    assert check.done_at == lb.NOW and check.inspector_id == people["leader"].id
    assert check.note == "井盖已更换为防坠网" and check.satisfaction == "basically_satisfied"
    assert check.client_id == "lookback-0001"
    assert check.area_id == small_county.villages["V11"].id
    assert check.township_id == small_county.townships["T1"].id
    audit = db.session.scalars(
        select(AuditLog).where(
            AuditLog.action == "followup.record", AuditLog.object_id == str(check.id)
        )
    ).one()
    assert audit.data["finding"] == "solved" and audit.data["on_site"] is True


def test_recording_twice_is_refused_and_changes_nothing(make_issue, people, lb):
    issue = make_issue("resolved")
    [check] = lb.pending(issue)
    record_followup(check, people["member"], "solved", *ISSUE)
    before = snapshot(issue, check)
    for finding in ("solved", "unsolved"):
        with pytest.raises(Conflict):
            record_followup(check, people["member2"], finding, *ISSUE)
        with pytest.raises(Conflict):
            record_followup(check, people["member"], finding, *ISSUE, client_id="another-send-1")
    assert snapshot(issue, check) == before


def test_the_same_client_id_replays_for_its_sender_only(make_issue, people, lb):
    issue = make_issue("resolved")
    [check] = lb.pending(issue)
    first, created = record_followup(
        check, people["member"], "unsolved", *ISSUE, client_id="phone-abc-123"
    )
    assert created and issue.status == "in_progress"
    before = snapshot(issue, check)
    again, created = record_followup(
        check, people["member"], "unsolved", *ISSUE, client_id="phone-abc-123"
    )
    assert again.id == first.id and created is False
    assert snapshot(issue, check) == before
    with pytest.raises(Conflict):
        record_followup(check, people["member2"], "unsolved", *ISSUE, client_id="phone-abc-123")
    other = make_issue("resolved")
    [other_check] = lb.pending(other)
    with pytest.raises(Conflict):  # one client_id, one look-back
        record_followup(other_check, people["member"], "solved", *ISSUE, client_id="phone-abc-123")
    assert other_check.done_at is None and other.status == "resolved"
    with pytest.raises(ValidationError) as bad:
        record_followup(other_check, people["member"], "solved", client_id="bad id!")
    assert "client_id" in bad.value.errors


def test_a_problem_not_awaiting_a_look_back_is_refused_and_nothing_changes(make_issue, people, lb):
    issue = make_issue("resolved")
    [check] = lb.pending(issue)
    record_followup(check, people["member"], "unsolved", *ISSUE)
    [rework] = lb.pending(issue)  # the unit is reworking it: in progress
    before = snapshot(issue, rework)
    for finding in ("solved", "unsolved"):
        with pytest.raises(Conflict) as refused:
            record_followup(rework, people["member"], finding, *ISSUE, client_id="rework-early-1")
        assert "issue" in refused.value.errors
    assert snapshot(issue, rework) == before


@pytest.mark.parametrize("role", ["admin", "unit"])
def test_the_office_and_the_unit_itself_do_not_record(make_issue, people, lb, role):
    issue = make_issue("resolved")
    [check] = lb.pending(issue)
    before = snapshot(issue, check)
    with pytest.raises(Forbidden):
        record_followup(check, people[role], "solved", *ISSUE)
    assert snapshot(issue, check) == before


def test_township_scope_is_respected(make_issue, people, lb):
    t1 = make_issue("resolved")  # in T1
    t2 = make_issue("resolved", lon=104.12, lat=30.05)  # in T2
    with pytest.raises(Forbidden):
        record_followup(lb.pending(t1)[0], people["member_t2"], "solved")
    record_followup(lb.pending(t2)[0], people["member_t2"], "solved", 104.12, 30.05)
    assert t2.status == "closed" and t1.status == "resolved"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"finding": "fixed"}, "finding"),
        ({"finding": None}, "finding"),
        ({"satisfaction": "happy"}, "satisfaction"),
        ({"lon": 200, "lat": 30.05}, "lon"),
        ({"lon": 104.02, "lat": "north"}, "lat"),
        ({"lon": 104.02, "lat": None}, "lat"),
        ({"accuracy_m": -3}, "accuracy_m"),
        ({"accuracy_m": "nan"}, "accuracy_m"),
        ({"note": "很" * 5001}, "note"),
    ],
)
def test_bad_values_are_field_errors_and_change_nothing(make_issue, people, lb, values, field):
    issue = make_issue("resolved")
    [check] = lb.pending(issue)
    before = snapshot(issue, check)
    arguments = {"finding": "solved", **values}
    with pytest.raises(ValidationError) as bad:
        record_followup(check, people["member"], **arguments)
    assert field in bad.value.errors
    assert snapshot(issue, check) == before


def test_a_look_back_on_a_visits_agreed_action_measures_to_the_nearest_stop(
    people, lb, small_county
):
    t2 = small_county.townships["T2"]
    visit = Visit(
        title="柳湾村人居环境整治现场协商",
        form="on_site",
        status="held",
        planned_for=date(2026, 3, 1),
        held_on=date(2026, 3, 1),
        township_id=t2.id,
        leader_id=people["leader"].id,
        actions=[{"note": "清理河道垃圾"}],
    )
    db.session.add(visit)
    db.session.flush()
    for position, (lon, lat) in enumerate([(104.12, 30.05), (104.18, 30.05)]):
        db.session.add(
            VisitStop(
                visit_id=visit.id,
                position=position,
                location=f"SRID=4326;POINT({lon} {lat})",
                township_id=t2.id,
            )
        )
    db.session.flush()
    db.session.refresh(visit)
    check = schedule_followup(
        people["supervisor"], visit=visit, due_on=lb.TODAY + timedelta(days=5)
    )
    assert check.kind == "visit" and check.township_id == t2.id
    here = lb.north(104.18, 30.05, 120)
    record_followup(check, people["member"], "partly", *here, 10, "河道已清理一半")
    assert check.on_site is True and check.distance_m == pytest.approx(120, abs=0.2)
    unheld = Visit(title="未举行", form="on_site", status="planned", planned_for=date(2026, 4, 1))
    db.session.add(unheld)
    db.session.flush()
    with pytest.raises(Conflict):
        schedule_followup(people["supervisor"], visit=unheld, due_on=lb.TODAY)
