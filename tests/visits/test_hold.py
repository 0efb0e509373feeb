"""Holding a visit moves its problems through the lifecycle as recorded, or nothing at all."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fieldwatch.errors_core import Conflict, Forbidden, ValidationError
from fieldwatch.extensions import db
from fieldwatch.models import AuditLog, Issue, IssueEvent, Visit
from fieldwatch.visits import services, signals

from .conftest import TODAY


@pytest.fixture
def visit_with(people):
    def make(*issues, **values):
        values.setdefault("planned_for", TODAY)
        return services.create_visit(
            people["leader"], title="现场协商", issue_ids=[i.id for i in issues], **values
        )

    return make


def events_of(issue):
    return db.session.scalars(
        select(IssueEvent).where(IssueEvent.issue_id == issue.id).order_by(IssueEvent.id)
    ).all()


def test_hold_applies_every_action_through_the_lifecycle(make_issue, people, visit_with):
    a = make_issue(104.02, 30.05)
    b = make_issue(104.03, 30.05, status="in_progress")
    visit = visit_with(a, b)
    received = []
    signals.visit_held.connect(lambda sender, **kw: received.append((sender, kw)), weak=False)
    try:
        services.hold(
            visit,
            held_on=TODAY,
            attendance={"members": 5, "officials": 3, "residents": 20},
            opinions="道路积水由水务局在雨季前完成疏通。",
            actions=[
                {"issue_id": a.id, "to": "accepted", "note": "现场确认属实"},
                {
                    "issue_id": a.id,
                    "to": "in_progress",
                    "unit": "water",
                    "due_on": (TODAY + timedelta(days=20)).isoformat(),
                    "note": "水务局牵头",
                },
                {"issue_id": b.ref, "to": "in_progress", "unit": "transport", "note": "转交通局"},
            ],
            actor=people["leader"],
        )
    finally:
        signals.visit_held.receivers.clear()
    db.session.commit()
    a, b = db.session.get(Issue, a.id), db.session.get(Issue, b.id)
    assert a.status == "in_progress" and a.unit.code == "water"
    assert a.due_on == TODAY + timedelta(days=20)
    assert b.status == "in_progress" and b.unit.code == "transport"
    moves = [(e.to_status, e.data.get("visit_id")) for e in events_of(a)]
    assert moves == [("reported", None), ("accepted", visit.id), ("in_progress", visit.id)]
    assert events_of(b)[-1].data["visit_id"] == visit.id
    assert events_of(b)[-1].data["move"] == "reassign"
    visit = db.session.get(Visit, visit.id)
    assert visit.status == "held" and visit.held_on == TODAY
    assert visit.attendance == {"members": 5, "officials": 3, "residents": 20}
    assert visit.opinions.startswith("道路积水")
    assert [(x["issue_id"], x["to"], x["unit"]) for x in visit.actions] == [
        (a.id, "accepted", None),
        (a.id, "in_progress", "water"),
        (b.id, "in_progress", "transport"),
    ]
    assert visit.actions[1]["due_on"] == (TODAY + timedelta(days=20)).isoformat()
    assert received and received[0][0] is visit and len(received[0][1]["events"]) == 3
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "visit.hold"))


@pytest.mark.parametrize(
    ("on", "bad", "error", "field"),
    [
        ("a", {"to": "in_progress"}, ValidationError, "actions.1.unit"),  # the unit is missing
        ("a", {"to": "in_progress", "unit": "nope"}, ValidationError, "actions.1.unit"),
        ("b", {"to": "resolved"}, Conflict, "actions.1"),  # not allowed from 'reported'
        ("a", {"to": "accepted"}, Conflict, "actions.1"),  # already accepted by action 0
        ("b", {"to": "flying"}, ValidationError, "actions.1.to"),
    ],
)
def test_one_bad_action_changes_nothing(make_issue, people, visit_with, on, bad, error, field):
    a = make_issue(104.02, 30.05)
    b = make_issue(104.03, 30.05)
    visit = visit_with(a, b)
    db.session.commit()
    events_before = db.session.scalar(select(func.count(IssueEvent.id)))
    actions = [
        {"issue_id": a.id, "to": "accepted"},
        {"issue_id": a.id if on == "a" else b.id, **bad},
    ]
    with pytest.raises(error) as caught:
        services.hold(visit, TODAY, {"members": 2}, "意见", actions, people["leader"])
    assert field in caught.value.errors
    assert "第 2 项" in caught.value.message and "所有措施均未生效" in caught.value.message
    db.session.commit()  # whatever the session still holds must not include the first action
    assert db.session.get(Issue, a.id).status == "reported"
    assert db.session.get(Issue, b.id).status == "reported"
    assert db.session.scalar(select(func.count(IssueEvent.id))) == events_before
    visit = db.session.get(Visit, visit.id)
    assert visit.status == "planned" and visit.held_on is None and visit.actions is None


def test_an_action_on_a_problem_not_on_the_route_is_refused(make_issue, people, visit_with):
    a, elsewhere = make_issue(), make_issue(104.09, 30.09)
    visit = visit_with(a)
    with pytest.raises(ValidationError) as caught:
        services.hold(
            visit,
            TODAY,
            {},
            "",
            [{"issue_id": a.id, "to": "accepted"}, {"issue_id": elsewhere.id, "to": "accepted"}],
            people["leader"],
        )
    assert "本次走访" in caught.value.errors["actions.1.issue_id"][0]
    assert a.status == "reported" and visit.status == "planned"


def test_a_role_that_may_not_make_a_move_is_refused_by_the_lifecycle(
    make_issue, people, visit_with, make_user
):
    a = make_issue()
    visit = visit_with(a)
    scoped = make_user("leader", township="512099002000")  # T2 only; the problem is in T1
    with pytest.raises(Forbidden) as caught:
        services.hold(visit, TODAY, {}, "", [{"issue_id": a.id, "to": "accepted"}], scoped)
    assert "actions.0" in caught.value.errors
    assert a.status == "reported" and visit.status == "planned"


def test_hold_dates_and_counts_are_checked(make_issue, people, visit_with):
    visit = visit_with(make_issue())
    with pytest.raises(ValidationError) as caught:
        services.hold(
            visit,
            TODAY + timedelta(days=1),
            {"members": -1, "officials": "many"},
            "",
            [],
            people["leader"],
        )
    assert set(caught.value.errors) == {"held_on", "attendance.members", "attendance.officials"}
    assert visit.status == "planned"


def test_hold_without_actions_and_twice(make_issue, people, visit_with):
    visit = visit_with(make_issue())
    services.hold(visit, None, None, "座谈，无需办理", [], people["leader"])
    assert visit.status == "held" and visit.held_on == TODAY and visit.actions == []
    assert visit.attendance == {"members": 0, "officials": 0, "residents": 0}
    with pytest.raises(Conflict):
        services.hold(visit, TODAY, {}, "", [], people["leader"])
    with pytest.raises(Conflict):
        services.cancel(visit, "重复", people["leader"])


def test_cancel_keeps_the_reason_and_needs_one(make_issue, people, visit_with):
    visit = visit_with(make_issue())
    with pytest.raises(ValidationError) as caught:
        services.cancel(visit, "  ", people["leader"])
    assert "reason" in caught.value.errors and visit.status == "planned"
    services.cancel(visit, "暴雨预警，改期", people["leader"])
    assert visit.status == "cancelled" and visit.cancel_reason == "暴雨预警，改期"
    with pytest.raises(Conflict):
        services.hold(visit, TODAY, {}, "", [], people["leader"])
