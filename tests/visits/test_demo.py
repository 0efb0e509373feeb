"""The demo visits: about 15, planned/held/cancelled, outcomes applied through hold(); idempotent."""

from datetime import timedelta

from sqlalchemy import func, select

from fieldwatch import clock
from fieldwatch.extensions import db
from fieldwatch.issues import services as issues
from fieldwatch.models import IssueEvent, Visit, VisitStop
from fieldwatch.visits import demo

from .conftest import NOW, TODAY


def test_demo_visits(app, people, small_county, make_user):
    make_user("member", login="demo_m1")
    with clock.frozen(NOW - timedelta(days=120)):
        for k in range(24):
            issues.report_issue(
                people["member"],
                title=f"演示问题{k}",
                category="roads",
                lon=104.01 + (k % 6) * 0.03,
                lat=30.02 + (k // 6) * 0.02,
            )
    db.session.flush()
    made = demo.load(2026)
    assert made == 15
    visits = db.session.scalars(select(Visit)).all()
    statuses = {
        s: sum(1 for v in visits if v.status == s) for s in ("planned", "held", "cancelled")
    }
    assert statuses == {"planned": 5, "held": 7, "cancelled": 3}
    assert len({v.township_id for v in visits if v.stops}) == 2  # across townships
    held = [v for v in visits if v.status == "held"]
    assert all(v.held_on <= TODAY and v.opinions for v in held)
    assert all(v.planned_for >= TODAY for v in visits if v.status == "planned")
    # the outcomes went through the lifecycle, tagged with their visit
    tagged = db.session.scalars(
        select(IssueEvent).where(IssueEvent.data["visit_id"].as_integer().is_not(None))
    ).all()
    applied = sum(len(v.actions or []) for v in held)
    assert applied and len(tagged) == applied
    assert all(e.created_at.date() <= TODAY for e in tagged)
    # stops carry their village (coverage's "visited")
    assert db.session.scalar(select(func.count()).where(VisitStop.area_id.is_(None))) == 0
    assert demo.load(2026) == 0  # idempotent
    assert db.session.scalar(select(func.count(Visit.id))) == 15


def test_demo_without_problems_plans_meetings(app, people, small_county):
    assert demo.load(2026) == 15
    assert {v.form for v in db.session.scalars(select(Visit))} == {"meeting"}
