"""Deliver the outbox: claim, commit, send, mark sent. At most once.

Each round claims a batch with `SELECT … FOR UPDATE SKIP LOCKED` (two runs at
once never take the same row), stamps `claimed_at` and counts the attempt, and
commits *before* sending. After each send the row is marked sent (or, on a
failure, released with `last_error` and a later `next_try_at`) and committed.

The choice is **at most once**: if the process dies between a send and its
mark, the row stays claimed and unsent, and no later run sends it again on its
own: a message that may already have arrived is never sent twice silently.
Rows are claimed one at a time, so a crash leaves at most one message in doubt.
Such rows are reported as interrupted (`fieldwatch notify` says how many; the
admin's notification page lists them) and an admin may send them again by hand.
At-least-once would instead resend after a lease and risk a duplicate in
someone's mailbox or work group; for reminders, a rare lost one is the smaller harm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from fieldwatch import clock
from fieldwatch.auth.services import audit
from fieldwatch.errors_core import Conflict, NotFound
from fieldwatch.extensions import db
from fieldwatch.models import OutboxMessage, User
from fieldwatch.notify.senders import PermanentError, senders_for

MAX_ATTEMPTS = 8
#: a claim older than this, still unsent, was left by a run that died
STALE_CLAIM = timedelta(minutes=15)
#: rows claimed per round: one, so that a crash leaves at most one message in doubt
#: (a claim costs one small transaction; reminders come in hundreds a day, not millions)
BATCH = 1
INTERRUPTED = (
    "发送中断：可能已送达，未自动重发 (interrupted after sending began; not resent automatically)"
)


def backoff(attempts: int) -> timedelta:
    """Wait before try n+1: 1, 2, 4, 8 … minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


@dataclass
class Report:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    interrupted: int = 0
    errors: list[str] = field(default_factory=list)


def claim(limit: int = BATCH) -> list[int]:
    """Take up to `limit` due rows for this run and commit the claim; return their ids."""
    now = clock.now()
    ids = list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.claimed_at.is_(None),
                OutboxMessage.attempts < MAX_ATTEMPTS,
                or_(OutboxMessage.next_try_at.is_(None), OutboxMessage.next_try_at <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(claimed_at=now, attempts=OutboxMessage.attempts + 1)
        )
    db.session.commit()
    return ids


def _mark_sent(message: OutboxMessage) -> None:
    message.sent_at = clock.now()
    message.last_error = None
    db.session.commit()


def _mark_failed(message: OutboxMessage, error: Exception, permanent: bool) -> str:
    message.claimed_at = None
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if permanent:
        message.attempts = MAX_ATTEMPTS
        message.next_try_at = None
        outcome = "failed"
    elif message.attempts >= MAX_ATTEMPTS:
        message.next_try_at = None
        outcome = "failed"
    else:
        message.next_try_at = clock.now() + backoff(message.attempts)
        outcome = "retry"
    db.session.commit()
    return outcome


def flag_interrupted() -> int:
    """Mark claims left by a run that died (not resent: at most once); return how many."""
    cutoff = clock.now() - STALE_CLAIM
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.claimed_at.is_not(None),
            OutboxMessage.claimed_at < cutoff,
            or_(OutboxMessage.last_error.is_(None), OutboxMessage.last_error != INTERRUPTED),
        )
        .values(last_error=INTERRUPTED)
    )
    db.session.commit()
    return result.rowcount


def deliver(limit: int | None = None) -> Report:
    """Send every due message (up to `limit`), one commit per message after it is sent."""
    report = Report()
    report.interrupted = flag_interrupted()
    senders = senders_for(current_app.config)
    done = 0
    try:
        while limit is None or done < limit:
            ids = claim(BATCH if limit is None else min(BATCH, limit - done))
            if not ids:
                break
            for message_id in ids:
                done += 1
                message = db.session.get(OutboxMessage, message_id)
                user = db.session.get(User, message.user_id) if message.user_id else None
                sender = senders.get(message.channel)
                try:
                    if sender is None:
                        raise PermanentError(f"未知渠道 {message.channel} (unknown channel)")
                    if user is not None and not user.active:
                        raise PermanentError("用户已停用 (the user is disabled)")
                    sender.send(message, user)
                except PermanentError as exc:
                    report.failed += _mark_failed(message, exc, True) == "failed"
                    report.errors.append(f"#{message_id}: {exc}")
                except Exception as exc:  # noqa: BLE001  any passing failure: try again later
                    outcome = _mark_failed(message, exc, False)
                    report.retry += outcome == "retry"
                    report.failed += outcome == "failed"
                    report.errors.append(f"#{message_id}: {type(exc).__name__}: {exc}")
                else:
                    _mark_sent(message)
                    report.sent += 1
    finally:
        for sender in senders.values():
            sender.close()
    return report


def requeue(message_id: int, actor=None) -> OutboxMessage:
    """Let an admin send a failed or interrupted message again (a fresh round of tries)."""
    message = db.session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise NotFound("没有这条通知 (no such message)")
    if message.sent_at is not None:
        raise Conflict("这条通知已发送 (already sent)")
    if message.claimed_at is not None and message.claimed_at > clock.now() - STALE_CLAIM:
        raise Conflict("这条通知正在发送 (being sent right now)")
    message.claimed_at = None
    message.attempts = 0
    message.next_try_at = None
    message.last_error = None
    audit("outbox.requeue", actor, "outbox", message.id, {"kind": message.kind})
    db.session.flush()
    return message
