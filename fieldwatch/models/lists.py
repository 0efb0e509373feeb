"""Admin-maintained lists: categories, responsible units, settings."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwatch.extensions import db


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    #: days a unit has to resolve (sets due_on when assigned)
    deadline_days: Mapped[int] = mapped_column(Integer, default=30)
    #: days after a class A answer (or a rework) until the look-back is due
    lookback_days: Mapped[int] = mapped_column(Integer, default=30)
    #: radius within which an open issue of this category counts as a possible duplicate
    duplicate_radius_m: Mapped[int] = mapped_column(Integer, default=250)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Unit(db.Model):
    """A responsible department (承办单位)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    #: set for township offices
    township_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    township = relationship("Area")


class Setting(db.Model):
    """A setting an admin changes in the browser (e.g. the tile source)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value = mapped_column(JSONB, nullable=False)
