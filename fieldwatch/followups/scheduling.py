"""Look-back scheduling: listens to the issue lifecycle (DESIGN.md "Lifecycles → Look-back").

The lifecycle announces every move (`issues.signals.issue_moved`); this module
answers it, so issues never import look-backs:

- resolved with class A: one look-back due today + the category's look-back days;
- resolved with class B: due on the issue's planned `due_on`;
- resolved with class C: none (a supervisor reviews it: `queries.class_c_to_review`);
- reopened by a look-back (rework): the next one due after the look-back days,
  assigned to whoever found it unsolved;
- closed by a look-back, made a duplicate or rejected: the automatic look-backs
  still pending are superseded and removed (a supervisor's extra look-backs and
  spot checks stay, except on duplicates and rejections).

An issue has at most one pending automatic (`scheduled` or `rework`) look-back;
a new resolution moves it to the date the rule gives rather than adding another.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, has_app_context
from sqlalchemy import select

from fieldwatch import clock
from fieldwatch.auth.services import audit
from fieldwatch.extensions import db
from fieldwatch.issues import signals
from fieldwatch.models import Followup, Photo

#: look-backs the lifecycle schedules by itself
AUTOMATIC = ("scheduled", "rework")


def lookback_days(issue) -> int:
    """Return the issue's look-back interval in days (its category's, else the default)."""
    days = getattr(issue.category, "lookback_days", None)
    if days:
        return int(days)
    return int(current_app.config.get("LOOKBACK_DEFAULT_DAYS", 30)) if has_app_context() else 30


def _pending(issue, kinds: tuple[str, ...] | None = AUTOMATIC) -> list[Followup]:
    query = select(Followup).where(Followup.issue_id == issue.id, Followup.done_at.is_(None))
    if kinds is not None:
        query = query.where(Followup.kind.in_(kinds))
    return list(db.session.scalars(query.order_by(Followup.id)))


def _drop(followups: list[Followup], actor=None, why: str | None = None) -> None:
    """Remove pending look-backs that nobody will do (those already holding photos stay)."""
    ids = [f.id for f in followups]
    if not ids:
        return
    with_photos = set(
        db.session.scalars(select(Photo.followup_id).where(Photo.followup_id.in_(ids)))
    )
    for followup in followups:
        if followup.id not in with_photos:
            audit(
                "followup.drop",
                actor,
                "followup",
                followup.id,
                {"issue_id": followup.issue_id, "kind": followup.kind, "because": why},
            )
            db.session.delete(followup)
    db.session.flush()


def _new(issue, kind: str, due_on: date, actor, assignee_id: int | None = None) -> Followup:
    followup = Followup(
        issue_id=issue.id,
        kind=kind,
        due_on=due_on,
        area_id=issue.area_id,
        township_id=issue.township_id,
        assignee_id=assignee_id,
        created_by_id=getattr(actor, "id", None),
        created_at=clock.now(),
    )
    db.session.add(followup)
    db.session.flush()
    audit(
        "followup.schedule",
        actor,
        "followup",
        followup.id,
        {"issue_id": issue.id, "kind": kind, "due_on": due_on.isoformat(), "auto": True},
    )
    return followup


def _after_resolve(issue, actor) -> None:
    pending = _pending(issue)
    if issue.answer_class == "C":
        _drop(pending, actor, "resolve_c")  # a supervisor reviews the explanation instead
        return
    if issue.answer_class == "B" and issue.due_on is not None:
        due = max(issue.due_on, clock.today())
    else:
        due = clock.today() + timedelta(days=lookback_days(issue))
    if pending:
        keep, *rest = pending
        if keep.due_on != due:
            audit(
                "followup.update",
                actor,
                "followup",
                keep.id,
                {"due_on": due.isoformat(), "was": keep.due_on.isoformat(), "auto": True},
            )
        keep.due_on = due
        _drop(rest, actor, "resolve")
        db.session.flush()
    else:
        _new(issue, "scheduled", due, actor)


def _after_reopen(issue, actor, finding_followup) -> None:
    _drop(_pending(issue), actor, "reopen")
    inspector_id = getattr(finding_followup, "inspector_id", None)
    _new(
        issue,
        "rework",
        clock.today() + timedelta(days=lookback_days(issue)),
        actor,
        assignee_id=inspector_id,
    )


def on_issue_moved(issue, event=None, actor=None, from_status=None, followup=None, **_) -> None:
    """Schedule, move or drop look-backs after an issue's move."""
    move = (getattr(event, "data", None) or {}).get("move")
    if move == "resolve":
        _after_resolve(issue, actor)
    elif move == "reopen":
        _after_reopen(issue, actor, followup)
    elif move in ("close_after_lookback", "close_class_c"):
        _drop([f for f in _pending(issue) if f is not followup], actor, move)
    elif move in ("duplicate", "reject"):
        _drop(_pending(issue, kinds=None), actor, move)


def connect() -> None:
    """Listen to the lifecycle (idempotent: blinker keeps one connection per receiver)."""
    signals.issue_moved.connect(on_issue_moved)
