"""Writes about issues: report, move through the lifecycle, comment.

`transition` is the one place a status changes; it announces every move
(`signals.issue_moved`) so that look-back and notifications can follow.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only

from fieldwatch import clock, policy
from fieldwatch.areas.queries import area_containing
from fieldwatch.auth.services import audit
from fieldwatch.errors_core import Conflict, Forbidden, NotFound, ValidationError
from fieldwatch.extensions import db
from fieldwatch.geo import parse_lonlat, point_element
from fieldwatch.issues import signals
from fieldwatch.issues.lifecycle import TARGETS, Move, moves_from
from fieldwatch.models import Category, Issue, IssueEvent, Unit
from fieldwatch.models.issues import ANSWER_CLASSES, LOCATION_SOURCES, PRIORITIES, SOURCES
from fieldwatch.replay import insert_once

CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
MAX_TITLE = 200
MAX_TEXT = 5000


def get_issue(ident: int | str, lock: bool = False) -> Issue:
    """Return the issue by id or ref (FW-…), or raise NotFound."""
    query = select(Issue)
    # isascii: "¹".isdigit() is true, yet int() refuses it
    if isinstance(ident, int) or (isinstance(ident, str) and ident.isascii() and ident.isdigit()):
        query = query.where(Issue.id == int(ident))
    else:
        query = query.where(Issue.ref == str(ident).strip().upper())
    if lock:
        query = query.with_for_update()
    issue = db.session.scalar(query)
    if issue is None:
        raise NotFound(f"没有这个问题: {ident} (no such issue)")
    return issue


def check_client_id(client_id: str | None) -> str | None:
    if client_id is None or client_id == "":
        return None
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise ValidationError(
            "client_id 无效",
            {"client_id": ["8–64 个字母、数字或 - _ . : (8–64 letters, digits, - _ . :)"]},
        )
    return client_id


def _category(code: str | None) -> Category:
    category = db.session.scalar(select(Category).where(Category.code == code, Category.active))
    if category is None:
        raise ValidationError("未知类别 (unknown category)", {"category": [f"没有类别 {code!r}"]})
    return category


def _parse_date(value, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(
            "日期无效", {field: ["日期格式 YYYY-MM-DD (date as YYYY-MM-DD)"]}
        ) from None


def _ref_and_areas(placed, at: datetime) -> tuple[str, object, object]:
    """Return the next ref and the placement's (village, township) Areas, in one statement.

    The answer to a report names both areas (code and name): loading them here, without
    their boundaries, spares two lazy loads of whole rows; the ref's number comes along.
    """
    from fieldwatch.models import Area

    ids = [i for i in (placed.village_id, placed.township_id) if i is not None]
    number = select(func.nextval("issue_ref_seq").label("n")).subquery()
    rows = db.session.execute(
        select(number.c.n, Area)
        .select_from(number)
        .outerjoin(Area, Area.id.in_(ids))
        .options(load_only(Area.code, Area.name, Area.level, Area.kind, Area.parent_id))
    ).all()
    by_id = {area.id: area for _, area in rows if area is not None}
    ref = f"FW-{clock.local(at).year}-{rows[0].n:06d}"
    return ref, by_id.get(placed.village_id), by_id.get(placed.township_id)


def report_issue(
    reporter,
    *,
    title: str,
    category: str,
    lon,
    lat,
    accuracy_m=None,
    location_source: str = "manual",
    observed_at: datetime | None = None,
    description: str | None = None,
    priority: str = "normal",
    client_id: str | None = None,
    source: str = "field",
    address: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
) -> tuple[Issue, bool]:
    """Create an issue (placed in its village and township); return (issue, created).

    The same `client_id` from the same reporter returns the original; from anyone
    else it is a conflict.
    """
    client_id = check_client_id(client_id)
    if client_id:
        existing = db.session.scalar(select(Issue).where(Issue.client_id == client_id))
        if existing is not None:
            return _replay(existing, reporter), False
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = ["请填写标题 (title required)"]
    elif len(title) > MAX_TITLE:
        errors["title"] = [f"标题最多 {MAX_TITLE} 字 (at most {MAX_TITLE} characters)"]
    if description and len(description) > MAX_TEXT:
        errors["description"] = [f"描述最多 {MAX_TEXT} 字"]
    try:
        cat = _category(category)
    except ValidationError as exc:
        errors.update(exc.errors)
        cat = None
    try:
        lon, lat = parse_lonlat(lon, lat)
    except ValidationError as exc:
        errors.update(exc.errors)
    if accuracy_m not in (None, ""):
        try:
            accuracy_m = float(accuracy_m)
            if not math.isfinite(accuracy_m) or accuracy_m < 0 or accuracy_m > 100_000:
                raise ValueError
        except (TypeError, ValueError):
            errors["accuracy_m"] = ["精度必须是 0–100000 米 (metres, 0–100000)"]
    else:
        accuracy_m = None
    if location_source not in LOCATION_SOURCES:
        errors["location_source"] = [f"可选: {', '.join(LOCATION_SOURCES)}"]
    if priority not in PRIORITIES:
        errors["priority"] = [f"可选: {', '.join(PRIORITIES)}"]
    if source not in SOURCES:
        errors["source"] = [f"可选: {', '.join(SOURCES)}"]
    if observed_at is not None and observed_at.tzinfo is None:
        errors["observed_at"] = ["需要带时区的时间 (a time with a UTC offset)"]
    elif observed_at is not None and not 1900 <= observed_at.year <= 2999:
        # year 1 at +14:00 is before the calendar in UTC: refuse rather than overflow
        errors["observed_at"] = ["时间超出范围 (out of range)"]
    if errors:
        raise ValidationError("上报内容有误 (invalid report)", errors)
    now = clock.now()
    placed = area_containing(lon, lat)
    ref, village, township = _ref_and_areas(placed, now)
    issue = Issue(
        ref=ref,
        title=title,
        description=(description or "").strip() or None,
        category=cat,
        location=point_element(lon, lat),
        accuracy_m=accuracy_m,
        location_source=location_source,
        address=(address or "").strip() or None,
        area=village,
        township=township,
        reporter_id=getattr(reporter, "id", None),
        contact_name=contact_name,
        contact_phone=contact_phone,
        source=source,
        client_id=client_id,
        observed_at=observed_at,
        created_at=now,
        updated_at=now,
        status="reported",
        priority=priority,
    )
    if client_id:
        # another request with this client_id may have committed first
        existing = insert_once(issue, Issue)
        if existing is not None:
            return _replay(existing, reporter), False
    else:  # no client_id, nothing to race for: no savepoint
        db.session.add(issue)
        db.session.flush()
    db.session.add(
        IssueEvent(
            issue_id=issue.id,
            actor_id=issue.reporter_id,
            kind="status",
            from_status=None,
            to_status="reported",
            data={"move": "report", "source": source},
            created_at=now,
        )
    )
    audit(
        "issue.status",
        reporter,
        "issue",
        issue.id,
        {"from": None, "to": "reported", "move": "report", "source": source},
    )
    db.session.flush()
    signals.issue_reported.send(issue, actor=reporter)
    return issue, True


def _replay(existing: Issue, reporter) -> Issue:
    if existing.reporter_id != getattr(reporter, "id", None):
        raise Conflict(
            "client_id 已被其他用户使用 (client_id used by another user)",
            {"client_id": ["已被使用"]},
        )
    return existing


def _permitted(move: Move, actor, issue: Issue, followup) -> bool:
    if "followup" in move.by:
        return followup is not None
    if actor is None:
        return False
    if actor.role in move.by:
        return policy.in_scope(actor, issue.township_id)
    return (
        "unit_staff" in move.by
        and actor.role == "unit"
        and actor.unit_id is not None
        and actor.unit_id == issue.unit_id
    )


def transition(
    issue: Issue,
    to: str,
    actor,
    *,
    note: str | None = None,
    unit: str | None = None,
    due_on=None,
    answer_class: str | None = None,
    reason: str | None = None,
    duplicate_of=None,
    followup=None,
    data: dict | None = None,
) -> IssueEvent:
    """Move an issue per the lifecycle table: 409 wrong status, 403 wrong role, 422 missing field."""
    if to not in TARGETS:
        raise ValidationError("未知状态 (unknown status)", {"to": [f"可选: {', '.join(TARGETS)}"]})
    candidates = moves_from(issue.status, to)
    if not candidates:
        raise Conflict(f"不能从“{issue.status}”变为“{to}” (move not allowed from {issue.status})")
    allowed = [m for m in candidates if _permitted(m, actor, issue, followup)]
    if not allowed:
        raise Forbidden(f"无权将问题变为“{to}” (your role may not make this move)")
    move = allowed[0]
    if move.name == "close_class_c" and issue.answer_class != "C":
        raise Conflict(
            "只有 C 类答复可由督办直接销号，其余须回头看 (only class C closes without a look-back)"
        )
    values = _required(
        move,
        issue,
        actor,
        note=note,
        unit=unit,
        due_on=due_on,
        answer_class=answer_class,
        reason=reason,
        duplicate_of=duplicate_of,
    )
    return _apply(issue, move, actor, values, note or reason, followup, data or {})


def _required(move: Move, issue: Issue, actor, **given) -> dict:
    errors: dict[str, list[str]] = {}
    values: dict = {}
    need = set(move.requires)
    if "unit" in need or given["unit"]:
        code = given["unit"]
        unit = (
            db.session.scalar(select(Unit).where(Unit.code == code, Unit.active)) if code else None
        )
        if unit is None and "unit" in need:
            errors["unit"] = [
                "请选择承办单位 (unit required)" if not code else f"没有承办单位 {code!r}"
            ]
        values["unit"] = unit
    due = None
    try:
        due = _parse_date(given["due_on"], "due_on")
    except ValidationError as exc:
        errors.update(exc.errors)
    if due is not None and due < clock.today() and move.name in ("assign", "reassign"):
        errors["due_on"] = ["办理期限不能早于今天 (due date in the past)"]
    if "due_on" in need and due is None and "due_on" not in errors:
        due = clock.today() + timedelta(days=issue.category.deadline_days)
    values["due_on"] = due
    if "answer_class" in need and given["answer_class"] not in ANSWER_CLASSES:
        errors["answer_class"] = ["答复类别 A、B 或 C (answer class A, B or C)"]
    values["answer_class"] = given["answer_class"]
    if "note" in need and not (given["note"] or "").strip():
        errors["note"] = ["请填写办理说明 (note required)"]
    if "reason" in need and not (given["reason"] or "").strip():
        errors["reason"] = ["请填写理由 (reason required)"]
    if "duplicate_of" in need:
        target = None
        if given["duplicate_of"] not in (None, ""):
            try:
                target = get_issue(given["duplicate_of"])
            except NotFound:
                target = None
            # one the actor may not see does not exist for them (no probing other townships)
            if (
                target is not None
                and actor is not None
                and not policy.can(actor, "issues.view", target)
            ):
                target = None
        if target is None:
            errors["duplicate_of"] = ["请指定重复的问题 (the issue it duplicates)"]
        elif target.id == issue.id:
            errors["duplicate_of"] = ["不能与自身重复 (not itself)"]
        values["duplicate_of"] = target
    if errors:
        raise ValidationError("缺少必填内容 (required values missing)", errors)
    return values


def _apply(issue: Issue, move: Move, actor, values: dict, note, followup, data: dict) -> IssueEvent:
    now = clock.now()
    before = issue.status
    record = {"move": move.name, **data}
    if move.name == "accept":
        issue.accepted_at = now
    elif move.name in ("assign", "reassign"):
        issue.unit_id = values["unit"].id
        record["unit"] = values["unit"].code
        if values["due_on"] is not None:
            issue.due_on = values["due_on"]
        record["due_on"] = issue.due_on.isoformat() if issue.due_on else None
    elif move.name == "resolve":
        issue.answer_class = values["answer_class"]
        issue.resolved_at = now
        if values["answer_class"] == "B" and values["due_on"] is not None:
            issue.due_on = values["due_on"]  # the planned date: the look-back is due then
        record.update(
            answer_class=issue.answer_class,
            due_on=issue.due_on.isoformat() if issue.due_on else None,
        )
    elif move.name == "duplicate":
        issue.duplicate_of_id = values["duplicate_of"].id
        record["duplicate_of"] = values["duplicate_of"].ref
    elif move.name in ("close_after_lookback", "close_class_c"):
        issue.closed_at = now
    elif move.name == "reopen":
        issue.reopen_count = (issue.reopen_count or 0) + 1
        issue.resolved_at = None
        issue.closed_at = None
        issue.due_on = clock.today() + timedelta(days=issue.category.deadline_days)
        record["due_on"] = issue.due_on.isoformat()
    if followup is not None:
        record["followup_id"] = followup.id
        record["finding"] = followup.finding
    issue.status = move.to
    issue.updated_at = now
    event = IssueEvent(
        issue_id=issue.id,
        actor_id=getattr(actor, "id", None),
        kind="status",
        from_status=before,
        to_status=move.to,
        note=(note or "").strip() or None,
        data=record,
        created_at=now,
    )
    db.session.add(event)
    db.session.flush()
    audit(
        "issue.status", actor, "issue", issue.id, {"from": before, "to": move.to, "move": move.name}
    )
    signals.issue_moved.send(issue, event=event, actor=actor, from_status=before, followup=followup)
    return event


def add_comment(
    issue: Issue, actor, note: str, client_id: str | None = None
) -> tuple[IssueEvent, bool]:
    """Add a comment to the timeline (no move); idempotent by client_id."""
    client_id = check_client_id(client_id)
    if client_id:
        existing = db.session.scalar(select(IssueEvent).where(IssueEvent.client_id == client_id))
        if existing is not None:
            if existing.actor_id != getattr(actor, "id", None) or existing.issue_id != issue.id:
                raise Conflict(
                    "client_id 已被使用 (client_id already used)", {"client_id": ["已被使用"]}
                )
            return existing, False
    note = (note or "").strip()
    if not note:
        raise ValidationError("请填写内容 (note required)", {"note": ["不能为空"]})
    if len(note) > MAX_TEXT:
        raise ValidationError("内容太长", {"note": [f"最多 {MAX_TEXT} 字"]})
    event = IssueEvent(
        issue_id=issue.id,
        actor_id=getattr(actor, "id", None),
        kind="comment",
        note=note,
        client_id=client_id,
        data={},
        created_at=clock.now(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(event)
            db.session.flush()
    except IntegrityError:
        existing = db.session.scalar(select(IssueEvent).where(IssueEvent.client_id == client_id))
        if existing is not None and existing.actor_id == getattr(actor, "id", None):
            return existing, False
        raise Conflict(
            "client_id 已被使用 (client_id already used)", {"client_id": ["已被使用"]}
        ) from None
    signals.issue_commented.send(issue, event=event, actor=actor)
    return event, True


def next_moves(issue: Issue, actor) -> list[str]:
    """Return the targets this user could move the issue to now (for showing buttons)."""
    from fieldwatch.issues.lifecycle import MOVES

    out = []
    for move in MOVES:
        if (
            issue.status in move.sources
            and "followup" not in move.by
            and _permitted(move, actor, issue, None)
        ):
            if move.name == "close_class_c" and issue.answer_class != "C":
                continue
            out.append(move.name)
    return out
