"""Shared column helpers for the models."""

from datetime import UTC, datetime

from geoalchemy2 import Geometry
from sqlalchemy import DateTime


def utcnow() -> datetime:
    """Return the current time in UTC, from the app clock."""
    from fieldwatch import clock

    return clock.now()


def point():
    """A WGS-84 point column type (GiST index made by GeoAlchemy2)."""
    return Geometry("POINT", srid=4326, spatial_index=True)


def tz_datetime():
    """A timestamptz column type."""
    return DateTime(timezone=True)


__all__ = ["UTC", "point", "tz_datetime", "utcnow"]
