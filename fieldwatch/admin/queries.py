"""Reads for the admin pages: users, lists and the audit log, filtered and paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from fieldwatch import clock
from fieldwatch.extensions import db
from fieldwatch.models import Area, AuditLog, Category, OutboxMessage, Unit, User

PAGE_SIZE = 50


@dataclass
class Page:
    items: list
    total: int
    page: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _paged(query, count_query, page: int, size: int = PAGE_SIZE) -> Page:
    total = db.session.scalar(count_query) or 0
    page = max(1, min(page, max(1, -(-total // size))))
    items = db.session.scalars(query.limit(size).offset((page - 1) * size)).unique().all()
    return Page(list(items), total, page, size)


def _user_filter(q: str | None, role: str | None, township: str | None, state: str | None):
    conditions = []
    if q:
        like = f"%{q.strip()}%"
        conditions.append(
            or_(
                User.login.ilike(like),
                User.name.ilike(like),
                User.phone.ilike(like),
                User.email.ilike(like),
                User.sector.ilike(like),
            )
        )
    if role:
        conditions.append(User.role == role)
    if township == "none":
        conditions.append(User.township_id.is_(None))
    elif township:
        conditions.append(User.township.has(Area.code == township))
    if state == "active":
        conditions.append(User.active.is_(True))
    elif state == "disabled":
        conditions.append(User.active.is_(False))
    return conditions


def users(
    q: str | None = None,
    role: str | None = None,
    township: str | None = None,
    state: str | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page:
    """Return a page of users matching the search (login, name, phone, e-mail, sector) and filters."""
    conditions = _user_filter(q, role, township, state)
    query = (
        select(User)
        .options(joinedload(User.township), joinedload(User.unit))
        .where(*conditions)
        .order_by(User.active.desc(), User.role, User.login)
    )
    return _paged(query, select(func.count(User.id)).where(*conditions), page, size)


def all_users(**filters) -> list[User]:
    """Every user matching the filters (for exports)."""
    conditions = _user_filter(**filters)
    return list(
        db.session.scalars(
            select(User)
            .options(joinedload(User.township), joinedload(User.unit))
            .where(*conditions)
            .order_by(User.role, User.login)
        ).unique()
    )


def townships() -> list[Area]:
    return list(
        db.session.scalars(select(Area).where(Area.level == "township").order_by(Area.code))
    )


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.active.desc(), Category.id)))


def units() -> list[Unit]:
    return list(
        db.session.scalars(
            select(Unit).options(joinedload(Unit.township)).order_by(Unit.active.desc(), Unit.id)
        )
    )


def unit_staff_counts() -> dict[int, int]:
    rows = db.session.execute(
        select(User.unit_id, func.count(User.id))
        .where(User.unit_id.is_not(None), User.active)
        .group_by(User.unit_id)
    )
    return dict(rows.all())


def category_issue_counts() -> dict[int, int]:
    from fieldwatch.models import Issue

    rows = db.session.execute(
        select(Issue.category_id, func.count(Issue.id)).group_by(Issue.category_id)
    )
    return dict(rows.all())


def _day_start(day: date) -> datetime:
    """The UTC instant the local day begins (audit dates are reckoned locally)."""
    return datetime.combine(day, time.min, tzinfo=clock.zone())


def _audit_filter(action, actor, since: date | None, until: date | None):
    conditions = []
    if action:
        if action.endswith("*"):
            conditions.append(AuditLog.action.startswith(action[:-1]))
        else:
            conditions.append(AuditLog.action == action)
    if actor:
        conditions.append(AuditLog.actor.has(User.login == actor.strip()))
    if since:
        conditions.append(AuditLog.at >= _day_start(since))
    if until:
        conditions.append(AuditLog.at < _day_start(until + timedelta(days=1)))
    return conditions


def audit_log(
    action: str | None = None,
    actor: str | None = None,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page:
    """Return a page of audit entries, newest first."""
    conditions = _audit_filter(action, actor, since, until)
    query = (
        select(AuditLog)
        .options(joinedload(AuditLog.actor))
        .where(*conditions)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
    )
    return _paged(query, select(func.count(AuditLog.id)).where(*conditions), page, size)


def audit_rows(action=None, actor=None, since=None, until=None, limit: int = 100_000) -> list:
    """Audit entries for an export (newest first, bounded)."""
    conditions = _audit_filter(action, actor, since, until)
    return list(
        db.session.scalars(
            select(AuditLog)
            .options(joinedload(AuditLog.actor))
            .where(*conditions)
            .order_by(AuditLog.at.desc(), AuditLog.id.desc())
            .limit(limit)
        )
    )


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))


def counts() -> dict[str, int]:
    """Figures for the admin home page."""
    from fieldwatch.notify.queries import outbox_counts

    return {
        "users": db.session.scalar(select(func.count(User.id)).where(User.active)) or 0,
        "disabled": db.session.scalar(select(func.count(User.id)).where(~User.active)) or 0,
        "categories": db.session.scalar(select(func.count(Category.id)).where(Category.active))
        or 0,
        "units": db.session.scalar(select(func.count(Unit.id)).where(Unit.active)) or 0,
        **outbox_counts(),
    }


def outbox(state: str | None = None, page: int = 1) -> Page:
    from fieldwatch.notify.queries import state_condition

    conditions = [state_condition(state)] if state else []
    query = (
        select(OutboxMessage)
        .options(joinedload(OutboxMessage.user))
        .where(*conditions)
        .order_by(OutboxMessage.id.desc())
    )
    return _paged(query, select(func.count(OutboxMessage.id)).where(*conditions), page)
