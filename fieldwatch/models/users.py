"""Users, roles and API tokens."""

from __future__ import annotations

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwatch.extensions import db
from fieldwatch.models.base import tz_datetime, utcnow

ROLES = ("admin", "leader", "member", "supervisor", "unit")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    #: admin | leader | member | supervisor | unit
    role: Mapped[str] = mapped_column(String(12))
    #: 界别
    sector: Mapped[str | None] = mapped_column(String(60))
    #: optional township scope
    township_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    #: the department a `unit` user works for
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: bumped by "log out everywhere"; part of the session id
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    #: which notifications the user receives, by kind
    notify = mapped_column(JSONB, default=dict)
    created_at = mapped_column(tz_datetime(), default=utcnow)

    township = relationship("Area")
    unit = relationship("Unit")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version or 0}"

    def __repr__(self) -> str:
        return f"<User {self.login} {self.role}>"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: sha256 of the token; the token itself is shown once
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    created_at = mapped_column(tz_datetime(), default=utcnow)
    last_used_at = mapped_column(tz_datetime(), nullable=True)
    revoked_at = mapped_column(tz_datetime(), nullable=True)

    user: Mapped[User] = relationship(back_populates="tokens")
