"""Fill the outbox: listeners on the lifecycle signals, and a scan for dates that come due.

One message per event and user (the outbox's `dedupe_key` is unique and
inserts that meet it do nothing), so announcing or scanning twice is harmless.
Messages are written in the same transaction as the change that caused them:
a move that rolls back leaves no message behind.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from werkzeug.routing import BuildError

from fieldwatch import clock
from fieldwatch.extensions import db
from fieldwatch.models import Followup, Issue, OutboxMessage, User, Visit
from fieldwatch.models.issues import ENDED
from fieldwatch.notify.prefs import channel_for

#: a look-back is announced this many days before it is due
DUE_AHEAD_DAYS = 3
#: overdue look-backs older than this were announced long ago (or the office knows):
#: the scan, which runs every few minutes, does not walk the whole backlog each time
OVERDUE_WINDOW_DAYS = 30
PREFIX = "[有事来协商] "


def link(endpoint: str, **values) -> str:
    """Return the page's address under FIELDWATCH_BASE_URL (or its path), or "" if none."""
    try:
        path = current_app.url_map.bind("localhost").build(endpoint, values)
    except BuildError:
        return ""
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    return f"{base}{path}"


def _issue_link(issue) -> str:
    return link("issues.detail", issue_id=issue.ref)


def enqueue(user: User, kind: str, key: str, build, data: dict | None = None) -> bool:
    """Queue one message for `user` unless they turned `kind` off; True if a row was added.

    `build()` returns (subject, body); it runs in the user's language.
    """
    if user is None or not user.active:
        return False
    channel = channel_for(user, kind)
    if channel is None:
        return False
    with force_locale(user.locale or "zh"):
        subject, body = build()
    statement = (
        insert(OutboxMessage)
        .values(
            user_id=user.id,
            kind=kind,
            channel=channel,
            subject=(PREFIX + subject)[:200],
            body=body,
            data=data or {},
            dedupe_key=f"{kind}:{key}:u{user.id}"[:120],
            created_at=clock.now(),
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    return db.session.execute(statement).rowcount > 0


# --- who hears about what -----------------------------------------------------------
def _active(*conditions) -> list[User]:
    return list(db.session.scalars(select(User).where(User.active, *conditions).order_by(User.id)))


def unit_staff(unit_id: int | None) -> list[User]:
    if unit_id is None:
        return []
    return _active(User.role == "unit", User.unit_id == unit_id)


def leaders_in_scope(township_id: int | None) -> list[User]:
    """Leaders and supervisors whose township scope covers the place (or who have none)."""
    scope = User.township_id.is_(None)
    if township_id is not None:
        scope = or_(scope, User.township_id == township_id)
    return _active(User.role.in_(("leader", "supervisor")), scope)


def followup_recipients(followup: Followup) -> list[User]:
    """Its assignee; else the township's members and supervisors; else the county supervisors."""
    if followup.assignee_id:
        return _active(User.id == followup.assignee_id)
    if followup.township_id is not None:
        local = _active(
            User.role.in_(("member", "supervisor")), User.township_id == followup.township_id
        )
        if local:
            return local
    return _active(User.role == "supervisor", User.township_id.is_(None))


def _except(users: list[User], actor) -> list[User]:
    actor_id = getattr(actor, "id", None)
    return [u for u in users if u.id != actor_id]


# --- lifecycle listeners ------------------------------------------------------------
def _place(issue) -> str:
    parts = [getattr(issue.township, "name", None), getattr(issue.area, "name", None)]
    where = "".join(p for p in parts if p)
    return " ".join(p for p in (where, issue.address or "") if p) or "—"


def on_issue_moved(issue, event=None, actor=None, from_status=None, followup=None, **_kw) -> None:
    """Assigned to a unit → its staff; reopened by a look-back → leaders, supervisors, the unit."""
    move = (getattr(event, "data", None) or {}).get("move")
    if move in ("assign", "reassign"):
        for user in _except(unit_staff(issue.unit_id), actor):
            enqueue(user, "assigned", f"e{event.id}", lambda: _assigned_text(issue), _ref(issue))
    elif move == "reopen":
        people = {u.id: u for u in leaders_in_scope(issue.township_id)}
        people.update({u.id: u for u in unit_staff(issue.unit_id)})
        for user in _except(list(people.values()), actor):
            enqueue(
                user,
                "reopened",
                f"e{event.id}",
                lambda: _reopened_text(issue, followup),
                _ref(issue),
            )


def _ref(issue) -> dict:
    return {"issue_id": issue.id, "ref": issue.ref}


def _assigned_text(issue) -> tuple[str, str]:
    subject = _("新交办问题 %(ref)s：%(title)s", ref=issue.ref, title=issue.title)
    lines = [
        _(
            "问题“%(title)s”已交由%(unit)s办理，办理期限 %(due)s。",
            title=issue.title,
            unit=getattr(issue.unit, "name", ""),
            due=issue.due_on.isoformat() if issue.due_on else "—",
        ),
        _("地点：%(place)s", place=_place(issue)),
        _("类别：%(category)s", category=getattr(issue.category, "name", "")),
    ]
    url = _issue_link(issue)
    if url:
        lines.append(_("查看：%(url)s", url=url))
    return subject, "\n".join(lines)


def _reopened_text(issue, followup) -> tuple[str, str]:
    findings = {"partly": _("部分解决"), "unsolved": _("未解决"), "regressed": _("问题反弹")}
    finding = findings.get(getattr(followup, "finding", None), _("未解决"))
    subject = _("问题 %(ref)s 回头看%(finding)s，重新办理", ref=issue.ref, finding=finding)
    lines = [
        _(
            "回头看结论：%(finding)s。问题“%(title)s”重新交由%(unit)s办理，新期限 %(due)s。",
            finding=finding,
            title=issue.title,
            unit=getattr(issue.unit, "name", "") or "—",
            due=issue.due_on.isoformat() if issue.due_on else "—",
        ),
        _("地点：%(place)s", place=_place(issue)),
    ]
    if getattr(followup, "note", None):
        lines.append(_("检查说明：%(note)s", note=followup.note))
    url = _issue_link(issue)
    if url:
        lines.append(_("查看：%(url)s", url=url))
    return subject, "\n".join(lines)


def connect() -> None:
    """Listen to the lifecycle (idempotent: blinker keeps one connection per receiver)."""
    from fieldwatch.issues import signals

    signals.issue_moved.connect(on_issue_moved, weak=False)


# --- the periodic scan --------------------------------------------------------------
def scan() -> dict[str, int]:
    """Queue look-backs due within 3 days or overdue, and visit invitations; return counts."""
    today = clock.today()
    counts = {"lookback_due": 0, "lookback_overdue": 0, "visit_invite": 0}
    pending = db.session.scalars(
        select(Followup)
        .outerjoin(Issue, Followup.issue_id == Issue.id)
        .where(
            Followup.done_at.is_(None),
            Followup.due_on <= today + timedelta(days=DUE_AHEAD_DAYS),
            Followup.due_on >= today - timedelta(days=OVERDUE_WINDOW_DAYS),
            or_(Followup.issue_id.is_(None), Issue.status.not_in(ENDED)),
        )
        .order_by(Followup.due_on, Followup.id)
    ).all()
    recipients: dict[tuple, list[User]] = {}  # many look-backs share a township
    for followup in pending:
        kind = "lookback_overdue" if followup.due_on < today else "lookback_due"
        key = f"f{followup.id}:{followup.due_on.isoformat()}"
        data = {"followup_id": followup.id, "issue_id": followup.issue_id}
        who = (followup.assignee_id, followup.township_id)
        if who not in recipients:
            recipients[who] = followup_recipients(followup)
        for user in recipients[who]:
            if enqueue(user, kind, key, lambda f=followup: _followup_text(f, today), data):
                counts[kind] += 1
    visits = db.session.scalars(
        select(Visit).where(Visit.status == "planned", Visit.planned_for >= today)
    ).all()
    for visit in visits:
        members = (visit.participants or {}).get("members") or []
        ids = sorted({int(m) for m in members if str(m).isdigit()} - {visit.leader_id})
        if not ids:
            continue
        key = f"v{visit.id}:{visit.planned_for.isoformat()}"
        for user in _active(User.id.in_(ids)):
            if enqueue(
                user, "visit_invite", key, lambda v=visit: _visit_text(v), {"visit_id": visit.id}
            ):
                counts["visit_invite"] += 1
    return counts


def _followup_text(followup: Followup, today) -> tuple[str, str]:
    subject_of = followup.issue or followup.visit
    title = getattr(subject_of, "title", "")
    ref = getattr(followup.issue, "ref", None) or _("走访")
    if followup.due_on < today:
        days = (today - followup.due_on).days
        subject = _("回头看已逾期 %(days)s 天：%(ref)s %(title)s", days=days, ref=ref, title=title)
    else:
        subject = _(
            "回头看将于 %(due)s 到期：%(ref)s %(title)s",
            due=followup.due_on.isoformat(),
            ref=ref,
            title=title,
        )
    lines = [
        _(
            "请在 %(due)s 前到现场回头看，记录问题是否真正解决。",
            due=followup.due_on.isoformat(),
        )
    ]
    if followup.issue is not None:
        lines.append(_("地点：%(place)s", place=_place(followup.issue)))
        url = _issue_link(followup.issue)
        if url:
            lines.append(_("查看：%(url)s", url=url))
    return subject, "\n".join(lines)


def _visit_text(visit: Visit) -> tuple[str, str]:
    forms = {
        "on_site": _("现场协商"),
        "meeting": _("会场协商"),
        "online": _("网络协商"),
        "written": _("书面协商"),
        "inspection": _("视察"),
    }
    subject = _("走访邀请：%(title)s（%(date)s）", title=visit.title, date=visit.planned_for)
    lines = [
        _(
            "您受邀参加 %(date)s 的%(form)s“%(title)s”。",
            date=visit.planned_for.isoformat(),
            form=forms.get(visit.form, visit.form),
            title=visit.title,
        )
    ]
    if visit.leader is not None:
        lines.append(_("带队领导：%(name)s", name=visit.leader.name))
    stops = [s.label or getattr(s.issue, "title", "") for s in visit.stops]
    stops = [s for s in stops if s]
    if stops:
        lines.append(_("地点：%(stops)s", stops="；".join(stops[:10])))
    url = link("visits.detail", visit_id=visit.id)
    if url:
        lines.append(_("查看：%(url)s", url=url))
    return subject, "\n".join(lines)
