"""Filling the outbox: lifecycle listeners, the periodic scan, each user's choices; one per event."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fieldwatch import clock
from fieldwatch.extensions import db
from fieldwatch.issues import services
from fieldwatch.models import Followup, OutboxMessage, Visit
from fieldwatch.notify.services import scan

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
T1, T2 = "512099001000", "512099002000"


def outbox(kind=None, user=None):
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if user:
        query = query.where(OutboxMessage.user_id == user.id)
    return db.session.scalars(query).all()


@pytest.fixture
def people(make_user, small_county, freeze):
    freeze(NOW)
    return {
        "admin": make_user("admin"),
        "leader_t1": make_user("leader", township=T1),
        "leader_t2": make_user("leader", township=T2),
        "supervisor": make_user("supervisor"),  # county-wide
        "member_t1": make_user("member", township=T1, email="m1@example.org"),
        "member_t2": make_user("member", township=T2),
        "water1": make_user("unit", unit="water", email="w1@example.org"),
        "water2": make_user("unit", unit="water"),
        "transport": make_user("unit", unit="transport"),
    }


def _issue(people, lon=104.02):
    issue, _ = services.report_issue(
        people["member_t1"], title="井盖松动", category="safety", lon=lon, lat=30.05
    )
    services.transition(issue, "accepted", people["admin"])
    return issue


def test_assignment_tells_the_units_staff_once(people):
    issue = _issue(people)
    event = services.transition(issue, "in_progress", people["admin"], unit="water")
    messages = outbox("assigned")
    assert {m.user_id for m in messages} == {people["water1"].id, people["water2"].id}
    first = next(m for m in messages if m.user_id == people["water1"].id)
    assert first.channel == "email"  # has an address
    assert next(m for m in messages if m.user_id == people["water2"].id).channel == "webhook"
    assert issue.ref in first.subject and "井盖松动" in first.subject
    assert "办理期限" in first.body and first.data == {"issue_id": issue.id, "ref": issue.ref}
    assert first.dedupe_key == f"assigned:e{event.id}:u{people['water1'].id}"
    # announcing the same event again adds nothing
    from fieldwatch.notify.services import on_issue_moved

    on_issue_moved(issue, event=event, actor=people["admin"])
    assert len(outbox("assigned")) == 2
    # reassigning to another unit tells that unit
    services.transition(issue, "in_progress", people["admin"], unit="transport")
    assert outbox("assigned", people["transport"])


def test_a_rolled_back_move_leaves_no_message(people):
    issue = _issue(people)
    db.session.commit()
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            services.transition(issue, "in_progress", people["admin"], unit="water")
            assert outbox("assigned")
            raise RuntimeError("the request failed after the move")
    assert outbox("assigned") == []


def test_reopen_tells_leaders_and_supervisors_in_scope_and_the_unit(people):
    issue = _issue(people)
    services.transition(issue, "in_progress", people["admin"], unit="water")
    services.transition(issue, "resolved", people["water1"], answer_class="A", note="已修复")
    followup = Followup(
        issue_id=issue.id,
        due_on=clock.today(),
        done_at=clock.now(),
        finding="unsolved",
        note="井盖仍然松动",
        township_id=issue.township_id,
    )
    db.session.add(followup)
    db.session.flush()
    inspector = people["member_t1"]
    services.transition(issue, "in_progress", inspector, followup=followup)
    told = {m.user_id for m in outbox("reopened")}
    expected = {"leader_t1", "supervisor", "water1", "water2"}
    assert told == {people[k].id for k in expected}
    assert people["leader_t2"].id not in told  # another township
    message = outbox("reopened", people["leader_t1"])[0]
    assert "未解决" in message.subject and "井盖仍然松动" in message.body


def test_users_choices_are_respected(people):
    from fieldwatch.notify.prefs import save_prefs

    save_prefs(people["water1"], {"assigned": {"on": False, "channel": "email"}})
    save_prefs(people["water2"], {"assigned": {"on": True, "channel": "webhook"}})
    issue = _issue(people)
    services.transition(issue, "in_progress", people["admin"], unit="water")
    assert [m.user_id for m in outbox("assigned")] == [people["water2"].id]
    # disabled users hear nothing
    people["transport"].active = False
    services.transition(issue, "in_progress", people["admin"], unit="transport")
    assert not outbox("assigned", people["transport"])


def _followup(issue, due_in_days, assignee=None):
    followup = Followup(
        issue_id=issue.id,
        due_on=clock.today() + timedelta(days=due_in_days),
        township_id=issue.township_id,
        assignee_id=getattr(assignee, "id", None),
    )
    db.session.add(followup)
    db.session.flush()
    return followup


def test_scan_lookbacks_due_and_overdue(people, make_user):
    issue = _issue(people)
    due = _followup(issue, 3)
    _followup(issue, 4)  # not yet: more than 3 days ahead
    overdue = _followup(issue, -2)
    _followup(issue, -40)  # long overdue: announced long ago, not walked again
    assigned = _followup(issue, 1, assignee=people["member_t2"])
    supervisor_t1 = make_user("supervisor", township=T1)
    counts = scan()
    assert counts == {"lookback_due": 3, "lookback_overdue": 2, "visit_invite": 0}
    # unassigned: the township's members and supervisors; assigned: only the assignee
    due_to = {m.user_id for m in outbox("lookback_due") if m.data["followup_id"] == due.id}
    assert due_to == {people["member_t1"].id, supervisor_t1.id}
    late = outbox("lookback_overdue")
    assert {m.data["followup_id"] for m in late} == {overdue.id}
    assert "逾期 2 天" in late[0].subject
    mine = [m for m in outbox("lookback_due") if m.data["followup_id"] == assigned.id]
    assert [m.user_id for m in mine] == [people["member_t2"].id]
    # the scan runs every few minutes: nothing twice
    assert scan() == {"lookback_due": 0, "lookback_overdue": 0, "visit_invite": 0}
    # done look-backs are not announced
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 5


def test_scan_falls_back_to_county_supervisors(people):
    issue, _ = services.report_issue(
        people["member_t2"], title="路面塌陷", category="roads", lon=104.18, lat=30.05
    )
    people["member_t2"].active = False  # the township has nobody left
    followup = _followup(issue, 0)
    scan()
    told = [m.user_id for m in outbox("lookback_due") if m.data["followup_id"] == followup.id]
    assert told == [people["supervisor"].id]


def test_scan_visit_invitations(people):
    visit = Visit(
        title="老旧小区排水现场协商",
        form="on_site",
        status="planned",
        planned_for=clock.today() + timedelta(days=5),
        leader_id=people["leader_t1"].id,
        participants={"members": [people["member_t1"].id, people["leader_t1"].id], "residents": 5},
    )
    cancelled = Visit(
        title="取消的走访",
        form="meeting",
        status="cancelled",
        planned_for=clock.today() + timedelta(days=5),
        participants={"members": [people["member_t2"].id]},
    )
    db.session.add_all([visit, cancelled])
    db.session.flush()
    assert scan()["visit_invite"] == 1  # the leader leads; the cancelled visit invites no one
    message = outbox("visit_invite")[0]
    assert message.user_id == people["member_t1"].id
    assert "老旧小区排水现场协商" in message.subject and "现场协商" in message.body
    assert scan()["visit_invite"] == 0
    # moved to another day: a new invitation
    visit.planned_for += timedelta(days=1)
    db.session.flush()
    assert scan()["visit_invite"] == 1


def test_account_page_saves_choices_with_field_errors(client, login_as, people):
    from fieldwatch.models import User
    from fieldwatch.notify.prefs import prefs_for

    user = login_as(people["member_t2"])
    page = client.get("/account/notifications")
    assert page.status_code == 200 and "回头看已逾期" in page.text
    # e-mail chosen without an address: a field error, nothing saved
    form = {"email": "", "phone": "13800000000"}
    form.update({"lookback_due-on": "1", "lookback_due-channel": "email"})
    response = client.post("/account/notifications", data=form)
    assert response.status_code == 422
    assert 'data-field="lookback_due.channel"' in response.text
    assert db.session.get(User, user.id).phone is None
    response = client.post("/account/notifications", data=dict(form, email="not-an-address"))
    assert response.status_code == 422 and 'data-field="email"' in response.text
    form["email"] = "li@example.org"
    assert client.post("/account/notifications", data=form).status_code == 302
    user = db.session.get(User, user.id)
    chosen = prefs_for(user)
    assert user.email == "li@example.org" and user.phone == "13800000000"
    assert chosen["lookback_due"] == {"on": True, "channel": "email"}
    assert chosen["visit_invite"]["on"] is False  # unticked
