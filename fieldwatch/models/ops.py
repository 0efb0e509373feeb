"""Operational records: audit log, notification outbox, login throttling."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwatch.extensions import db
from fieldwatch.models.base import tz_datetime, utcnow


class AuditLog(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(tz_datetime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: e.g. login, login_failed, role_change, issue.status
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str | None] = mapped_column(String(30))
    object_id: Mapped[str | None] = mapped_column(String(40))
    data = mapped_column(JSONB, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))

    actor = relationship("User")


class OutboxMessage(db.Model):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: assigned | lookback_due | lookback_overdue | reopened | visit_invite
    kind: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(20), default="email")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data = mapped_column(JSONB, default=dict)
    #: one message per event and user, however often it is announced
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at = mapped_column(tz_datetime(), default=utcnow)
    sent_at = mapped_column(tz_datetime(), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_try_at = mapped_column(tz_datetime(), nullable=True)
    #: set when a `fieldwatch notify` run takes the row to send it; a row still
    #: claimed and unsent after a crash is not resent automatically (at most once)
    claimed_at = mapped_column(tz_datetime(), nullable=True)

    user = relationship("User")


class LoginThrottle(db.Model):
    """Failed logins per key (login or IP), shared by every server worker."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start = mapped_column(tz_datetime(), default=utcnow)
    locked_until = mapped_column(tz_datetime(), nullable=True)
