"""Erase residents' personal data after the retention period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update

from fieldwatch import clock
from fieldwatch.auth.services import audit
from fieldwatch.extensions import db
from fieldwatch.models import AuditLog, Issue
from fieldwatch.models.issues import ENDED

DEFAULT_RETENTION_DAYS = 365


@dataclass(frozen=True)
class PurgeReport:
    retention_days: int
    cutoff: datetime
    issues: int
    dry_run: bool


def retention_days() -> int:
    """Return the configured retention (FIELDWATCH_CONTACT_RETENTION_DAYS, default 365)."""
    return int(current_app.config.get("CONTACT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def _expired(cutoff: datetime):
    """Problems that ended before `cutoff` and still hold a resident's contact."""
    ended_at = func.coalesce(Issue.closed_at, Issue.updated_at)
    return (
        Issue.status.in_(ENDED),
        ended_at < cutoff,
        or_(Issue.contact_name.is_not(None), Issue.contact_phone.is_not(None)),
    )


def purge_contacts(dry_run: bool = False, actor=None) -> PurgeReport:
    """Erase contact name and phone of problems ended longer ago than the retention.

    Ended = closed, rejected or duplicate; the end is `closed_at` (else the last
    change). Writes one audit row with the counts; flushes only (the caller commits,
    so the erasure and its audit row go together or not at all).
    """
    days = retention_days()
    cutoff = clock.now() - timedelta(days=days)
    where = _expired(cutoff)
    if dry_run:
        count = db.session.scalar(select(func.count(Issue.id)).where(*where))
        return PurgeReport(days, cutoff, count, True)
    result = db.session.execute(
        update(Issue)
        .where(*where)
        .values(contact_name=None, contact_phone=None)
        .execution_options(synchronize_session=False)
    )
    count = result.rowcount
    audit(
        "privacy.purge",
        actor,
        data={"issues": count, "retention_days": days, "cutoff": cutoff.isoformat()},
    )
    db.session.flush()
    return PurgeReport(days, cutoff, count, False)


def last_purge() -> AuditLog | None:
    """Return the latest purge's audit row (its data holds the counts), or None."""
    return db.session.scalar(
        select(AuditLog)
        .where(AuditLog.action == "privacy.purge")
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
