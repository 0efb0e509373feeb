"""Reads about the outbox: its states and counts."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from fieldwatch import clock
from fieldwatch.extensions import db
from fieldwatch.models import OutboxMessage
from fieldwatch.notify.delivery import MAX_ATTEMPTS, STALE_CLAIM

STATES = ("waiting", "sending", "sent", "failed", "interrupted")


def state_condition(state: str):
    """The SQL condition for a message state (waiting, sending, sent, failed, interrupted)."""
    m = OutboxMessage
    stale = clock.now() - STALE_CLAIM
    return {
        "sent": m.sent_at.is_not(None),
        "waiting": and_(m.sent_at.is_(None), m.claimed_at.is_(None), m.attempts < MAX_ATTEMPTS),
        "sending": and_(m.sent_at.is_(None), m.claimed_at >= stale),
        "interrupted": and_(m.sent_at.is_(None), m.claimed_at < stale),
        "failed": and_(m.sent_at.is_(None), m.claimed_at.is_(None), m.attempts >= MAX_ATTEMPTS),
    }[state]


def state_of(message) -> str:
    if message.sent_at is not None:
        return "sent"
    if message.claimed_at is not None:
        return "interrupted" if message.claimed_at < clock.now() - STALE_CLAIM else "sending"
    return "failed" if message.attempts >= MAX_ATTEMPTS else "waiting"


def outbox_counts() -> dict[str, int]:
    """How many messages are in each state (keys prefixed outbox_)."""
    return {
        f"outbox_{state}": db.session.scalar(
            select(func.count(OutboxMessage.id)).where(state_condition(state))
        )
        or 0
        for state in STATES
    }
