"""Every allowed and refused move of DESIGN.md's lifecycle table: status, role, required fields."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from fieldwatch import clock
from fieldwatch.errors_core import Conflict, Forbidden, ValidationError
from fieldwatch.extensions import db
from fieldwatch.issues import services, signals
from fieldwatch.issues.lifecycle import MOVES
from fieldwatch.models import IssueEvent

STATUSES = ("reported", "accepted", "in_progress", "resolved", "closed", "rejected", "duplicate")
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


class FakeFollowup:
    id = None
    finding = "solved"


@pytest.fixture
def people(make_user):
    return {
        "admin": make_user("admin"),
        "leader": make_user("leader"),
        "supervisor": make_user("supervisor"),
        "member": make_user("member"),
        "unit": make_user("unit", unit="water"),
        "other_unit": make_user("unit", unit="transport"),
    }


@pytest.fixture
def make_issue(app, small_county, people, freeze):
    freeze(NOW)

    def make(status="reported", answer_class="A", unit="water"):
        issue, _ = services.report_issue(
            people["member"], title="井盖松动", category="safety", lon=104.02, lat=30.05
        )
        path = {
            "reported": [],
            "accepted": [("accepted", {})],
            "in_progress": [("accepted", {}), ("in_progress", {"unit": unit})],
            "resolved": [
                ("accepted", {}),
                ("in_progress", {"unit": unit}),
                ("resolved", {"answer_class": answer_class, "note": "已修复"}),
            ],
            "closed": [
                ("accepted", {}),
                ("in_progress", {"unit": unit}),
                ("resolved", {"answer_class": answer_class, "note": "已修复"}),
                ("closed", {"followup": FakeFollowup()}),
            ],
            "rejected": [("rejected", {"reason": "不属于职责范围"})],
            "duplicate": [],
        }[status]
        if status == "duplicate":
            first, _ = services.report_issue(
                people["member"], title="原问题", category="safety", lon=104.021, lat=30.05
            )
            path = [("duplicate", {"duplicate_of": first.id})]
        for to, extra in path:
            services.transition(issue, to, people["admin"], **extra)
        assert issue.status == status
        return issue

    return make


REQUIRED = {
    "accept": {},
    "assign": {"unit": "water"},
    "reassign": {"unit": "transport"},
    "resolve": {"answer_class": "A", "note": "已修复"},
    "reject": {"reason": "不属实"},
    "close_class_c": {"note": "已解释"},
}


@pytest.mark.parametrize("move", [m for m in MOVES if "followup" not in m.by], ids=lambda m: m.name)
def test_each_staff_move_from_each_allowed_status_by_each_allowed_role(move, make_issue, people):
    for source in move.sources:
        for role in ("admin", "leader", "supervisor", "unit", "member"):
            answer = "C" if move.name == "close_class_c" else "A"
            issue = make_issue(source, answer_class=answer)
            extra = dict(REQUIRED.get(move.name, {}))
            if move.name == "duplicate":
                other, _ = services.report_issue(
                    people["member"], title="另一个", category="safety", lon=104.03, lat=30.05
                )
                extra = {"duplicate_of": other.ref}
            allowed = role in move.by or (role == "unit" and "unit_staff" in move.by)
            if allowed:
                event = services.transition(issue, move.to, people[role], **extra)
                assert (
                    issue.status == move.to
                    and event.to_status == move.to
                    and event.from_status == source
                )
            else:
                with pytest.raises(Forbidden):
                    services.transition(issue, move.to, people[role], **extra)
                assert issue.status == source


@pytest.mark.parametrize("to", STATUSES[1:])
def test_moves_from_the_wrong_status_are_conflicts(to, make_issue, people):
    allowed_from = {s for m in MOVES if m.to == to for s in m.sources}
    for source in STATUSES:
        if source in allowed_from:
            continue
        issue = make_issue(source)
        with pytest.raises(Conflict):
            services.transition(
                issue,
                to,
                people["admin"],
                unit="water",
                answer_class="A",
                note="n",
                reason="r",
                duplicate_of=1,
            )
        assert issue.status == source


@pytest.mark.parametrize(
    ("source", "to", "missing"),
    [
        ("accepted", "in_progress", "unit"),
        ("in_progress", "in_progress", "unit"),
        ("in_progress", "resolved", "answer_class"),
        ("in_progress", "resolved", "note"),
        ("reported", "rejected", "reason"),
        ("accepted", "rejected", "reason"),
        ("reported", "duplicate", "duplicate_of"),
    ],
)
def test_required_fields_are_field_errors(source, to, missing, make_issue, people):
    issue = make_issue(source)
    values = {
        "unit": "water",
        "answer_class": "B",
        "note": "说明",
        "reason": "理由",
        "duplicate_of": None,
    }
    if to == "duplicate":
        other, _ = services.report_issue(
            people["member"], title="x2", category="safety", lon=104.03, lat=30.05
        )
        values["duplicate_of"] = other.id
    values[missing] = None
    events_before = len(issue.events)
    with pytest.raises(ValidationError) as info:
        services.transition(issue, to, people["leader"], **values)
    assert missing in info.value.errors
    assert issue.status == source and len(issue.events) == events_before


def test_assign_defaults_due_on_from_the_category(make_issue, people):
    issue = make_issue("accepted")
    services.transition(issue, "in_progress", people["leader"], unit="water")
    assert issue.due_on == clock.today() + timedelta(days=issue.category.deadline_days)
    assert issue.unit.code == "water"


def test_a_past_due_date_is_refused(make_issue, people):
    issue = make_issue("accepted")
    with pytest.raises(ValidationError) as info:
        services.transition(
            issue, "in_progress", people["leader"], unit="water", due_on=date(2020, 1, 1)
        )
    assert "due_on" in info.value.errors


def test_unit_staff_resolve_only_their_own_units_issues(make_issue, people):
    issue = make_issue("in_progress", unit="water")
    with pytest.raises(Forbidden):
        services.transition(issue, "resolved", people["other_unit"], answer_class="A", note="done")
    services.transition(issue, "resolved", people["unit"], answer_class="A", note="done")
    assert issue.status == "resolved"


def test_closing_needs_a_lookback_or_a_supervisor_on_class_c(make_issue, people):
    issue = make_issue("resolved", answer_class="A")
    for role in ("admin", "leader", "supervisor"):
        with pytest.raises((Forbidden, Conflict)):
            services.transition(issue, "closed", people[role], note="看过了")
    services.transition(issue, "closed", people["member"], followup=FakeFollowup())
    assert issue.status == "closed" and issue.closed_at is not None
    class_c = make_issue("resolved", answer_class="C")
    with pytest.raises(ValidationError):
        services.transition(class_c, "closed", people["supervisor"])
    services.transition(class_c, "closed", people["supervisor"], note="已向群众解释")
    assert class_c.status == "closed"


def test_reopen_only_by_a_lookback_counts_rework(make_issue, people):
    issue = make_issue("closed")
    with pytest.raises(Forbidden):
        services.transition(issue, "in_progress", people["admin"], unit="water")
    followup = FakeFollowup()
    followup.finding = "regressed"
    services.transition(issue, "in_progress", people["member"], followup=followup)
    assert issue.status == "in_progress" and issue.reopen_count == 1 and issue.closed_at is None


def test_township_scope_limits_staff(make_issue, people, make_user, small_county):
    issue = make_issue("reported")
    elsewhere = make_user("leader", township=small_county.townships["T2"].code)
    with pytest.raises(Forbidden):
        services.transition(issue, "accepted", elsewhere)
    here = make_user("leader", township=small_county.townships["T1"].code)
    services.transition(issue, "accepted", here)


def test_every_move_is_an_event_and_announced(make_issue, people):
    heard = []

    def listen(sender, **kw):
        heard.append((sender.id, kw["from_status"], kw["event"].to_status))

    signals.issue_moved.connect(listen)
    try:
        issue = make_issue("resolved")
    finally:
        signals.issue_moved.disconnect(listen)
    assert [h[2] for h in heard] == ["accepted", "in_progress", "resolved"]
    kinds = db.session.scalars(
        select(IssueEvent.to_status).where(IssueEvent.issue_id == issue.id).order_by(IssueEvent.id)
    ).all()
    assert kinds == ["reported", "accepted", "in_progress", "resolved"]


def test_comment_is_idempotent_by_client_id(make_issue, people):
    issue = make_issue("reported")
    first, created = services.add_comment(
        issue, people["member"], "补充照片", client_id="c-0000000001"
    )
    again, created_again = services.add_comment(
        issue, people["member"], "补充照片", client_id="c-0000000001"
    )
    assert created and not created_again and first.id == again.id
    with pytest.raises(Conflict):
        services.add_comment(issue, people["leader"], "x", client_id="c-0000000001")


def test_report_is_placed_and_idempotent(app, small_county, people):
    issue, created = services.report_issue(
        people["member"],
        title="积水",
        category="drainage",
        lon=104.07,
        lat=30.05,
        client_id="r-0000000001",
    )
    assert created and issue.area_id == small_county.villages["V12"].id
    assert issue.township_id == small_county.townships["T1"].id
    assert issue.ref.startswith("FW-")
    again, created_again = services.report_issue(
        people["member"],
        title="积水",
        category="drainage",
        lon=104.07,
        lat=30.05,
        client_id="r-0000000001",
    )
    assert not created_again and again.id == issue.id
    with pytest.raises(Conflict):
        services.report_issue(
            people["leader"],
            title="积水",
            category="drainage",
            lon=104.07,
            lat=30.05,
            client_id="r-0000000001",
        )
    point_only, _ = services.report_issue(
        people["member"], title="路灯", category="roads", lon=104.17, lat=30.06
    )
    assert point_only.area_id == small_county.villages["V22"].id


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"lon": 200}, "lon"),
        ({"lat": "abc"}, "lat"),
        ({"category": "nope"}, "category"),
        ({"title": "  "}, "title"),
        ({"accuracy_m": -3}, "accuracy_m"),
    ],
)
def test_bad_reports_are_field_errors_and_create_nothing(app, people, values, field):
    from fieldwatch.models import Issue

    before = db.session.query(Issue).count()
    args = {"title": "t", "category": "roads", "lon": 104.0, "lat": 30.0, **values}
    with pytest.raises(ValidationError) as info:
        services.report_issue(people["member"], **args)
    assert field in info.value.errors
    assert db.session.query(Issue).count() == before
