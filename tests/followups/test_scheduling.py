"""Scheduling per DESIGN.md "Lifecycles → Look-back": the lifecycle announces, look-back answers."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fieldwatch import create_app
from fieldwatch.errors_core import Conflict, Forbidden, ValidationError
from fieldwatch.extensions import db
from fieldwatch.followups import queries, scheduling
from fieldwatch.followups.services import record_followup, schedule_followup, update_followup
from fieldwatch.issues import services as issues
from fieldwatch.issues import signals
from fieldwatch.models import Followup, IssueEvent


def test_class_a_schedules_one_after_the_category_look_back_days(make_issue, lb):
    roads = make_issue("resolved", "A", category="roads")  # 30 days
    safety = make_issue("resolved", "A", category="safety")  # 14 days
    [road_check] = lb.pending(roads)
    [safety_check] = lb.pending(safety)
    assert road_check.kind == "scheduled" and road_check.due_on == lb.TODAY + timedelta(days=30)
    assert safety_check.due_on == lb.TODAY + timedelta(days=14)
    assert road_check.township_id == roads.township_id and road_check.area_id == roads.area_id


def test_class_b_is_due_on_the_planned_date(make_issue, lb):
    planned = make_issue("resolved", "B", planned="2026-06-01")
    [check] = lb.pending(planned)
    assert planned.due_on == date(2026, 6, 1) and check.due_on == date(2026, 6, 1)
    # no planned date given: the issue's own due date (set when assigned)
    unplanned = make_issue("resolved", "B", due_on="2026-04-20")
    assert [f.due_on for f in lb.pending(unplanned)] == [date(2026, 4, 20)]


def test_class_c_schedules_none_and_waits_for_a_supervisor(make_issue, people, lb):
    issue = make_issue("resolved", "C")
    assert lb.pending(issue) == []
    scope = queries.Scope()
    assert [r.id for r in queries.class_c_to_review(scope)] == [issue.id]
    assert queries.count_class_c(scope) == 1
    # a spot check takes it off the review list; the supervisor may also close it
    check = schedule_followup(
        people["supervisor"], issue=issue, due_on=lb.TODAY + timedelta(days=3)
    )
    assert check.kind == "extra"
    assert queries.class_c_to_review(scope) == []
    other = make_issue("resolved", "C")
    issues.transition(other, "closed", people["supervisor"], note="已向群众解释，暂不具备条件")
    assert other.status == "closed" and queries.count_class_c(scope) == 0


def test_resolve_unsolved_reopen_resolve_solved_closed(make_issue, people, freeze, lb):
    freeze(lb.at(1, 5))
    issue = make_issue("resolved", "A")
    [first] = lb.pending(issue)
    assert first.due_on == date(2026, 2, 4)

    freeze(lb.at(2, 1))
    record_followup(first, people["member"], "unsolved", 104.02, 30.05, 8, "井盖仍松动")
    assert issue.status == "in_progress" and issue.reopen_count == 1
    [rework] = lb.pending(issue)
    assert rework.kind == "rework" and rework.due_on == date(2026, 3, 3)
    assert rework.assignee_id == people["member"].id  # whoever found it goes back
    assert issue.due_on == date(2026, 3, 3)  # the unit's new deadline (roads: 30 days)

    freeze(lb.at(2, 10))
    issues.transition(issue, "resolved", people["unit"], answer_class="A", note="已重新固定")
    assert [f.id for f in lb.pending(issue)] == [rework.id]  # moved, not doubled
    assert rework.due_on == date(2026, 3, 12)

    freeze(lb.at(3, 1))
    record_followup(rework, people["member"], "solved", 104.02, 30.05, 5, "已牢固")
    assert issue.status == "closed" and issue.closed_at == lb.at(3, 1)
    assert lb.pending(issue) == []
    moves = db.session.scalars(
        select(IssueEvent.to_status)
        .where(IssueEvent.issue_id == issue.id, IssueEvent.kind == "status")
        .order_by(IssueEvent.id)
    ).all()
    assert moves == ["reported", "accepted", "in_progress", "resolved", "in_progress", "resolved",
                     "closed"]  # fmt: skip
    events = db.session.scalars(
        select(IssueEvent).where(IssueEvent.issue_id == issue.id).order_by(IssueEvent.id)
    ).all()
    assert events[4].data["followup_id"] == first.id and events[4].data["finding"] == "unsolved"
    assert events[6].data["move"] == "close_after_lookback"


def test_partly_and_regressed_reopen_too(make_issue, people, lb):
    partly = make_issue("resolved", "A")
    record_followup(lb.pending(partly)[0], people["member"], "partly")
    assert partly.status == "in_progress" and [f.kind for f in lb.pending(partly)] == ["rework"]
    closed = make_issue("resolved", "A")
    record_followup(lb.pending(closed)[0], people["member"], "solved")
    spot = schedule_followup(people["supervisor"], issue=closed, due_on=lb.TODAY)
    assert spot.kind == "spot_check"
    record_followup(spot, people["member2"], "regressed", note="又松了")
    assert closed.status == "in_progress" and closed.reopen_count == 1
    [rework] = lb.pending(closed)
    assert rework.assignee_id == people["member2"].id


def test_a_spot_check_finding_it_solved_leaves_a_closed_issue_closed(make_issue, people, lb):
    issue = make_issue("resolved", "A")
    record_followup(lb.pending(issue)[0], people["member"], "solved")
    closed_at = issue.closed_at
    spot = schedule_followup(people["supervisor"], issue=issue, due_on=lb.TODAY)
    record_followup(spot, people["member"], "solved")
    assert issue.status == "closed" and issue.closed_at == closed_at and lb.pending(issue) == []


def test_closing_drops_the_automatic_look_back_but_keeps_a_spot_check(make_issue, people, lb):
    issue = make_issue("resolved", "A")
    [scheduled] = lb.pending(issue)
    extra = schedule_followup(
        people["supervisor"], issue=issue, due_on=lb.TODAY + timedelta(days=2)
    )
    record_followup(extra, people["member"], "solved")  # the extra one closes it
    assert issue.status == "closed"
    assert db.session.get(Followup, scheduled.id) is None
    later = schedule_followup(
        people["supervisor"], issue=issue, due_on=lb.TODAY + timedelta(days=60)
    )
    assert [f.id for f in lb.pending(issue)] == [later.id]


def test_a_duplicate_drops_every_pending_look_back(make_issue, people, lb):
    issue = make_issue("resolved", "A")
    schedule_followup(people["supervisor"], issue=issue, due_on=lb.TODAY)
    original = make_issue("reported")
    issues.transition(issue, "duplicate", people["admin"], duplicate_of=original.id)
    assert lb.pending(issue) == []


def test_supervisors_schedule_extra_checks_and_assign_inspectors(make_issue, people):
    issue = make_issue("resolved", "A")
    check = schedule_followup(
        people["supervisor"], issue=issue, due_on="2026-03-20", assignee=people["member"].login
    )
    assert check.kind == "extra" and check.assignee_id == people["member"].id
    assert check.due_on == date(2026, 3, 20) and check.created_by_id == people["supervisor"].id
    update_followup(check, people["admin"], assignee=people["leader"].id, due_on="2026-03-25")
    assert check.assignee_id == people["leader"].id and check.due_on == date(2026, 3, 25)
    update_followup(check, people["supervisor"], assignee=None)
    assert check.assignee_id is None


@pytest.mark.parametrize("role", ["member", "leader", "unit"])
def test_only_supervisors_and_admin_schedule(make_issue, people, role, lb):
    issue = make_issue("resolved", "A")
    with pytest.raises(Forbidden):
        schedule_followup(people[role], issue=issue, due_on=lb.TODAY)
    [check] = lb.pending(issue)
    with pytest.raises(Forbidden):
        update_followup(check, people[role], assignee=people["member"].id)


def test_scheduling_checks_values_scope_and_state(make_issue, people, lb):
    issue = make_issue("resolved", "A")  # in T1
    with pytest.raises(ValidationError) as past:
        schedule_followup(people["supervisor"], issue=issue, due_on="2026-03-09")
    assert "due_on" in past.value.errors
    with pytest.raises(ValidationError) as unit_staff:
        schedule_followup(
            people["supervisor"], issue=issue, due_on=lb.TODAY, assignee=people["unit"]
        )
    assert "assignee" in unit_staff.value.errors  # units never inspect their own work
    with pytest.raises(ValidationError) as elsewhere:
        schedule_followup(
            people["supervisor"], issue=issue, due_on=lb.TODAY, assignee=people["member_t2"]
        )
    assert "assignee" in elsewhere.value.errors
    with pytest.raises(Forbidden):  # a T2 supervisor may not schedule in T1
        schedule_followup(people["supervisor_t2"], issue=issue, due_on=lb.TODAY)
    open_issue = make_issue("in_progress")
    with pytest.raises(Conflict):
        schedule_followup(people["supervisor"], issue=open_issue, due_on=lb.TODAY)
    assert len(lb.pending(issue)) == 1 and lb.pending(open_issue) == []
    done = lb.pending(issue)[0]
    record_followup(done, people["member"], "solved")
    with pytest.raises(Conflict):
        update_followup(done, people["supervisor"], assignee=people["member2"].id)


def _connected() -> int:
    receivers = signals.issue_moved.receivers_for(object())
    return sum(1 for r in receivers if r is scheduling.on_issue_moved)


def test_the_listener_is_connected_by_the_app_factory_for_every_face(app):
    """Pages, API, CLI and tests all build the app with create_app, which connects it."""
    assert _connected() == 1
    signals.issue_moved.disconnect(scheduling.on_issue_moved)
    try:
        assert _connected() == 0
        create_app(dict(app.config))
        assert _connected() == 1
        create_app(dict(app.config))  # a second app does not connect it twice
        assert _connected() == 1
    finally:
        scheduling.connect()
