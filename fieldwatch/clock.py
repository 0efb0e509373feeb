"""The app's clock: UTC instants, local dates in FIELDWATCH_TIMEZONE, settable in tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

_frozen: datetime | None = None


def now() -> datetime:
    """Return the current instant (aware, UTC)."""
    if _frozen is not None:
        return _frozen
    fake = os.environ.get("FIELDWATCH_FAKE_NOW")
    if fake:
        return datetime.fromisoformat(fake).astimezone(UTC)
    return datetime.now(UTC)


def zone() -> ZoneInfo:
    """Return the zone in which dates are shown and reckoned."""
    if has_app_context():
        return ZoneInfo(current_app.config["FIELDWATCH_TIMEZONE"])
    return ZoneInfo(os.environ.get("FIELDWATCH_TIMEZONE", "Asia/Shanghai"))


def today() -> date:
    """Return today's date in the app's zone."""
    return now().astimezone(zone()).date()


def local(instant: datetime | None) -> datetime | None:
    """Return an instant in the app's zone, for display."""
    return instant.astimezone(zone()) if instant else None


def days_from_today(days: int) -> date:
    """Return the local date `days` after today."""
    return today() + timedelta(days=days)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Freeze the clock at `at` (aware) while the block runs."""
    global _frozen
    previous, _frozen = _frozen, at.astimezone(UTC)
    try:
        yield
    finally:
        _frozen = previous


def set_now(at: datetime | None) -> None:
    """Set (or with None, release) the frozen instant."""
    global _frozen
    _frozen = at.astimezone(UTC) if at else None
