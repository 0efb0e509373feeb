"""Writes about look-backs (回头看): schedule, assign, record.

Recording a look-back and the issue's move it causes happen in one transaction:
the route commits once; any error before that leaves everything as it was.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldwatch import clock, policy
from fieldwatch.auth.services import audit
from fieldwatch.errors_core import Conflict, NotFound, ValidationError
from fieldwatch.extensions import db
from fieldwatch.geo import distance_m, lonlat_of, parse_lonlat, point_element
from fieldwatch.issues.services import check_client_id, transition
from fieldwatch.models import Followup, Issue, User, Visit
from fieldwatch.models.visits import FINDINGS, SATISFACTION

#: statuses in which an issue awaits (resolved) or allows (closed: a spot check) a look-back
AWAITING = ("resolved", "closed")
#: who may be sent to look back (never unit staff: their own work is being checked)
INSPECTOR_ROLES = policy.LOOKBACK_RECORDERS
MAX_NOTE = 5000
UNSET = object()


def get_followup(ident, lock: bool = False) -> Followup:
    """Return the look-back by id, or raise NotFound."""
    try:
        number = int(ident)
    except (TypeError, ValueError):
        number = None
    followup = None
    if number is not None and 0 < number < 2**31:
        query = select(Followup).where(Followup.id == number)
        if lock:  # and re-read: another request may have recorded it meanwhile
            query = query.with_for_update().execution_options(populate_existing=True)
        followup = db.session.scalar(query)
    if followup is None:
        raise NotFound(f"没有这个回头看: {ident} (no such look-back)")
    return followup


def _due_date(value, field: str = "due_on") -> date:
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise ValidationError(
                "日期无效 (invalid date)", {field: ["日期格式 YYYY-MM-DD (date as YYYY-MM-DD)"]}
            ) from None
    if value < clock.today():
        raise ValidationError(
            "日期不能早于今天 (date in the past)", {field: ["不能早于今天 (not in the past)"]}
        )
    return value


def _inspector(value, township_id: int | None) -> User | None:
    """Resolve an assignee given as a user, id or login; check role, activity and scope."""
    if value is None or value == "":
        return None
    if isinstance(value, User):
        user = value
    elif isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        user = db.session.get(User, int(value)) if 0 < int(value) < 2**31 else None
    else:
        user = db.session.scalar(select(User).where(User.login == str(value)))
    if user is None or not user.active:
        raise ValidationError("没有这个用户 (no such user)", {"assignee": ["没有这个用户"]})
    if user.role not in INSPECTOR_ROLES:
        raise ValidationError(
            "只能指派委员、领导或督办 (only a member, leader or supervisor)",
            {"assignee": ["承办单位不能回头看自己的工作 (units do not inspect their own work)"]},
        )
    if not policy.in_scope(user, township_id):
        raise ValidationError(
            "此人不负责该乡镇 (outside the inspector's township)",
            {"assignee": ["不在此人的乡镇范围内 (outside their township)"]},
        )
    return user


def schedule_followup(
    actor,
    *,
    issue: Issue | None = None,
    visit: Visit | None = None,
    due_on,
    kind: str | None = None,
    assignee=None,
) -> Followup:
    """Add a supervisor's extra look-back or spot check to an issue (or a held visit)."""
    subject = issue if issue is not None else visit
    if subject is None:
        raise ValidationError("请指定问题 (issue required)", {"issue_id": ["请指定问题"]})
    policy.require(actor, "followups.schedule", subject)
    errors: dict[str, list[str]] = {}
    try:
        due = _due_date(due_on)
    except ValidationError as exc:
        errors.update(exc.errors)
    township_id = subject.township_id
    try:
        inspector = _inspector(assignee, township_id)
    except ValidationError as exc:
        errors.update(exc.errors)
    allowed = ("visit",) if issue is None else ("extra", "spot_check")
    if kind not in (None, "", *allowed):
        errors["kind"] = [f"可选: {', '.join(allowed)}"]
    if errors:
        raise ValidationError("回头看安排有误 (invalid look-back)", errors)
    if issue is not None and issue.status not in AWAITING:
        raise Conflict(
            "问题尚未办结，办结后才能安排回头看 (the problem is not resolved yet)",
            {"issue_id": [f"当前状态 {issue.status}"]},
        )
    if issue is None and visit.status != "held":
        raise Conflict("走访尚未举行 (the visit has not been held)", {"visit_id": [visit.status]})
    if not kind:
        kind = "visit" if issue is None else ("spot_check" if issue.status == "closed" else "extra")
    area_id = issue.area_id if issue is not None else None
    followup = Followup(
        issue_id=getattr(issue, "id", None),
        visit_id=getattr(visit, "id", None),
        kind=kind,
        due_on=due,
        assignee_id=getattr(inspector, "id", None),
        area_id=area_id,
        township_id=township_id,
        created_by_id=actor.id,
        created_at=clock.now(),
    )
    db.session.add(followup)
    db.session.flush()
    audit("followup.schedule", actor, "followup", followup.id, {"kind": kind, "due_on": str(due)})
    return followup


def update_followup(followup: Followup, actor, *, assignee=UNSET, due_on=UNSET) -> Followup:
    """Assign (or unassign) the inspector, or move the due date, of a pending look-back."""
    policy.require(actor, "followups.schedule", followup)
    if followup.done_at is not None:
        raise Conflict("回头看已完成，不能再改 (the look-back is already done)")
    errors: dict[str, list[str]] = {}
    changes: dict = {}
    if assignee is not UNSET:
        try:
            inspector = _inspector(assignee, followup.township_id)
            changes["assignee_id"] = getattr(inspector, "id", None)
        except ValidationError as exc:
            errors.update(exc.errors)
    if due_on is not UNSET:
        try:
            changes["due_on"] = _due_date(due_on)
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError("回头看安排有误 (invalid look-back)", errors)
    for name, value in changes.items():
        setattr(followup, name, value)
    db.session.flush()
    audit(
        "followup.update", actor, "followup", followup.id, {k: str(v) for k, v in changes.items()}
    )
    return followup


def _subject_point(followup: Followup) -> list[tuple[float, float]]:
    """The place(s) to be at: the issue's point, or a visit's stops."""
    if followup.issue is not None:
        return [lonlat_of(followup.issue.location)]
    visit = followup.visit
    points = [lonlat_of(stop.location) for stop in visit.stops]
    if not points and visit.station is not None:
        points = [lonlat_of(visit.station.location)]
    return points


def _position(
    lon, lat, accuracy_m, errors: dict
) -> tuple[tuple[float, float] | None, float | None]:
    point = None
    if lon not in (None, "") or lat not in (None, ""):
        try:
            point = parse_lonlat(lon, lat)
        except ValidationError as exc:
            errors.update(exc.errors)
    accuracy = None
    if accuracy_m not in (None, ""):
        try:
            accuracy = float(accuracy_m)
            if not math.isfinite(accuracy) or not 0 <= accuracy <= 100_000:
                raise ValueError
        except (TypeError, ValueError):
            errors["accuracy_m"] = ["精度必须是 0–100000 米 (metres, 0–100000)"]
    return point, accuracy


def _replay(client_id: str, followup: Followup, inspector) -> Followup | None:
    existing = db.session.scalar(select(Followup).where(Followup.client_id == client_id))
    if existing is None:
        return None
    if existing.id != followup.id or existing.inspector_id != getattr(inspector, "id", None):
        raise Conflict(
            "client_id 已被使用 (client_id already used)", {"client_id": ["已被其他记录使用"]}
        )
    return existing


def record_followup(
    followup: Followup,
    inspector,
    finding: str,
    lon=None,
    lat=None,
    accuracy_m=None,
    note: str | None = None,
    satisfaction: str | None = None,
    client_id: str | None = None,
) -> tuple[Followup, bool]:
    """Record what a look-back found and move the issue; return (look-back, recorded now).

    Off site (farther than ONSITE_DISTANCE_M, or with no position) is kept but
    marked. `solved` closes a resolved issue; anything else reopens it (rework).
    """
    client_id = check_client_id(client_id)
    if client_id and (original := _replay(client_id, followup, inspector)) is not None:
        return original, False
    policy.require(inspector, "followups.record", followup)
    followup = get_followup(followup.id, lock=True)
    issue = None
    if followup.issue_id is not None:
        issue = db.session.scalar(
            select(Issue)
            .where(Issue.id == followup.issue_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    if followup.done_at is not None:
        if client_id and followup.client_id == client_id and followup.inspector_id == inspector.id:
            return followup, False  # the same send, retried while the first was committing
        raise Conflict(
            "这次回头看已经记录过 (this look-back is already recorded)",
            {"followup": [f"记录于 {clock.local(followup.done_at):%Y-%m-%d %H:%M}"]},
        )
    if issue is not None and issue.status not in AWAITING:
        raise Conflict(
            "问题不在等待回头看 (the problem is not awaiting a look-back)",
            {"issue": [f"当前状态 {issue.status}，办结后才能回头看"]},
        )
    errors: dict[str, list[str]] = {}
    if finding not in FINDINGS:
        errors["finding"] = [f"可选: {', '.join(FINDINGS)}"]
    if satisfaction in ("", None):
        satisfaction = None
    elif satisfaction not in SATISFACTION:
        errors["satisfaction"] = [f"可选: {', '.join(SATISFACTION)}"]
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        errors["note"] = [f"最多 {MAX_NOTE} 字 (at most {MAX_NOTE} characters)"]
    point, accuracy = _position(lon, lat, accuracy_m, errors)
    if errors:
        raise ValidationError("回头看记录有误 (invalid look-back)", errors)

    distance = None
    targets = _subject_point(followup)
    if point is not None and targets:
        distance = round(min(distance_m(point, t) for t in targets), 1)
    limit = float(current_app.config.get("ONSITE_DISTANCE_M", 200))
    followup.done_at = clock.now()
    followup.inspector_id = inspector.id
    followup.location = point_element(*point) if point else None
    followup.accuracy_m = accuracy
    followup.distance_m = distance
    followup.on_site = distance is not None and distance <= limit
    followup.finding = finding
    followup.note = note
    followup.satisfaction = satisfaction
    followup.client_id = client_id
    if issue is not None:
        followup.area_id, followup.township_id = issue.area_id, issue.township_id
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            "client_id 已被使用 (client_id already used)", {"client_id": ["已被其他记录使用"]}
        ) from None
    if issue is not None:
        if finding != "solved":
            transition(issue, "in_progress", inspector, note=note, followup=followup)
        elif issue.status == "resolved":
            transition(issue, "closed", inspector, note=note, followup=followup)
    audit(
        "followup.record",
        inspector,
        "followup",
        followup.id,
        {"finding": finding, "on_site": followup.on_site, "distance_m": distance},
    )
    return followup, True
