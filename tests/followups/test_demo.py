"""The demo look-backs: every kind, through the services, idempotent."""

from collections import Counter

from sqlalchemy import func, select

from fieldwatch import clock
from fieldwatch.extensions import db
from fieldwatch.followups import demo, queries
from fieldwatch.models import Followup, Issue, Photo


def test_demo_look_backs_of_every_kind(app):
    from fieldwatch.demo.loader import load_demo

    clock.set_now(None)
    load_demo(extras=False)
    added = demo.load(2026)
    assert added == 23
    done = db.session.scalars(select(Followup).where(Followup.done_at.is_not(None))).all()
    findings = Counter(f.finding for f in done)
    assert set(findings) == {"solved", "partly", "unsolved", "regressed"}
    assert any(f.on_site for f in done)
    assert any(f.on_site is False and f.distance_m and f.distance_m > 200 for f in done)
    assert any(f.on_site is False and f.distance_m is None for f in done)
    kinds = Counter(f.kind for f in db.session.scalars(select(Followup)))
    assert {"scheduled", "rework", "spot_check", "extra"} <= set(kinds)
    scope = queries.Scope()
    assert queries.followups(scope, "overdue")[0]
    due = queries.followups(scope, "due")[0]
    assert any(r.due_on <= clock.days_from_today(7) for r in due)  # due within the week
    assert queries.count_class_c(scope) == 2
    assert db.session.scalar(select(func.count()).where(Issue.reopen_count > 0)) >= 3
    assert db.session.scalar(select(func.count()).where(Photo.followup_id.is_not(None))) >= 4
    statuses = Counter(db.session.scalars(select(Issue.status)))
    assert statuses["closed"] >= 8 and statuses["in_progress"] >= 3 and statuses["resolved"] >= 8
    # done look-backs happened in the past, each after its problem was resolved
    now = clock.now()
    assert all(f.done_at <= now for f in done)
    # idempotent
    assert demo.load(2026) == 0
    assert db.session.scalar(select(func.count()).select_from(Followup)) == sum(kinds.values())
