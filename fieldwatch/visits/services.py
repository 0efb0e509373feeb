"""Writes about visits: plan (create, edit, reorder), hold, cancel.

Services take plain values, check every rule, raise `fieldwatch.errors_core`
errors with field messages, and flush; the caller commits once. Holding a visit
moves its problems only through `issues.services.transition`, all or nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import select

from fieldwatch import clock, policy
from fieldwatch.areas.queries import area_containing
from fieldwatch.auth.services import audit
from fieldwatch.errors_core import Conflict, FieldwatchError, NotFound, ValidationError
from fieldwatch.extensions import db
from fieldwatch.geo import lonlat_of, parse_lonlat, point_element
from fieldwatch.issues.services import get_issue, transition
from fieldwatch.models import Issue, Station, Unit, User, Visit, VisitStop
from fieldwatch.models.issues import ENDED
from fieldwatch.models.visits import VISIT_FORMS
from fieldwatch.visits import routing, signals

MAX_TITLE = 200
MAX_TEXT = 10_000
#: a day's route: more stops than this is not one visit
MAX_STOPS = 30
STATUS_WORDS = {"closed": "已销号", "rejected": "已不予立项", "duplicate": "已作为重复问题合并"}


# --- reading values ---------------------------------------------------------------
def parse_date(value, field: str) -> date | None:
    """Return a date from a date or ISO text, or raise a field error."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(
            "日期无效 (invalid date)", {field: ["日期格式 YYYY-MM-DD (date as YYYY-MM-DD)"]}
        ) from None


def _count(value, field: str, errors: dict) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(value)
        if isinstance(value, float) and value != number:
            raise ValueError
    except (TypeError, ValueError):
        errors[field] = ["必须是整数 (a whole number)"]
        return 0
    if number < 0 or number > 100_000:
        errors[field] = ["必须是 0–100000 (0 to 100000)"]
    return number


def get_visit(visit_id, lock: bool = False) -> Visit:
    """Return the visit or raise NotFound."""
    try:
        ident = int(visit_id)
        if not 0 < ident < 2**31:
            raise ValueError
    except (TypeError, ValueError):
        raise NotFound(f"没有这次走访: {visit_id} (no such visit)") from None
    query = select(Visit).where(Visit.id == ident)
    if lock:
        query = query.with_for_update()
    visit = db.session.scalar(query)
    if visit is None:
        raise NotFound(f"没有这次走访: {visit_id} (no such visit)")
    return visit


def find_issue(ident) -> Issue | None:
    """Return the issue named by an id or ref, or None (anything else names none)."""
    if isinstance(ident, bool) or not isinstance(ident, int | str):
        return None
    if isinstance(ident, str):
        ident = ident.strip()
        if not ident or len(ident) > 40:
            return None
    if (isinstance(ident, int) or ident.isdigit()) and not 0 < int(ident) < 2**31:
        return None
    try:
        return get_issue(ident)
    except NotFound:
        return None


def _issue_for_stop(ident, actor, errors: list[str]) -> Issue | None:
    issue = find_issue(ident)
    if issue is None:
        errors.append(f"没有这个问题: {ident} (no such problem)")
        return None
    if issue.status in ENDED:
        word = STATUS_WORDS[issue.status]
        errors.append(
            f"问题 {issue.ref}「{issue.title}」{word}，不能作为走访点"
            f" ({issue.status} problems cannot be stops)"
        )
        return None
    if actor is not None and not policy.can(actor, "issues.view", issue):
        errors.append(f"问题 {issue.ref} 不在您的范围内 (outside your scope)")
        return None
    return issue


def resolve_stops(values: list, actor, place: bool = False) -> list[dict]:
    """Check stops (issue ids/refs, `{"issue_id"}` or free points `{"lon", "lat", "label"}`);
    return `[{"issue", "lon", "lat", "label"}]` in order, with their village and township
    (`area_id`, `township_id`) when `place`."""
    out: list[dict] = []
    problems: list[str] = []
    seen: set[int] = set()
    for item in values:
        if isinstance(item, dict) and item.get("issue_id") in (None, ""):
            try:
                lon, lat = parse_lonlat(item.get("lon"), item.get("lat"))
            except ValidationError:
                problems.append("自选地点的坐标无效 (a free point needs a valid lon and lat)")
                continue
            label = (item.get("label") or "").strip()[:200] or None
            out.append({"issue": None, "lon": lon, "lat": lat, "label": label})
            continue
        ident = item.get("issue_id") if isinstance(item, dict) else item
        issue = _issue_for_stop(ident, actor, problems)
        if issue is None:
            continue
        if issue.id in seen:
            problems.append(f"问题 {issue.ref} 重复 (listed twice)")
            continue
        seen.add(issue.id)
        lon, lat = lonlat_of(issue.location)
        out.append({"issue": issue, "lon": lon, "lat": lat, "label": None})
    if len(out) > MAX_STOPS:
        problems.append(f"一次走访最多 {MAX_STOPS} 个点 (at most {MAX_STOPS} stops)")
    if problems:
        raise ValidationError(problems[0], {"issue_ids": problems})
    for stop in out if place else ():
        placed = area_containing(stop["lon"], stop["lat"])
        stop["area_id"], stop["township_id"] = placed.village_id, placed.township_id
    return out


def _participants(value, errors: dict) -> dict:
    value = value or {}
    if not isinstance(value, dict):
        errors["participants"] = ["应为 {members, units, residents}"]
        return {}
    members = [m for m in (value.get("members") or []) if m not in (None, "")]
    try:
        member_ids = list(dict.fromkeys(int(m) for m in members))
    except (TypeError, ValueError):
        errors["participants.members"] = ["应为用户编号 (user ids)"]
        member_ids = []
    if member_ids:
        found = set(
            db.session.scalars(
                select(User.id).where(User.id.in_(member_ids), User.active, User.role != "unit")
            )
        )
        missing = [m for m in member_ids if m not in found]
        if missing:
            errors["participants.members"] = [f"没有这些委员: {missing} (unknown members)"]
    units = list(dict.fromkeys(str(u) for u in (value.get("units") or []) if u))
    if units:
        found = set(db.session.scalars(select(Unit.code).where(Unit.code.in_(units))))
        missing = [u for u in units if u not in found]
        if missing:
            errors["participants.units"] = [f"没有这些承办单位: {missing} (unknown units)"]
    residents = _count(value.get("residents"), "participants.residents", errors)
    return {"members": member_ids, "units": units, "residents": residents}


def _leader(value, actor, errors: dict) -> int | None:
    if value in (None, ""):
        return actor.id if getattr(actor, "role", None) in ("leader", "admin") else None
    user = db.session.get(User, int(value)) if str(value).isdigit() else None
    if user is None or user.role not in ("leader", "admin") or not user.active:
        errors["leader_id"] = ["带队领导必须是领导用户 (the leader must be a leader)"]
        return None
    return user.id


def _station(value, errors: dict, actor=None, keep: int | None = None) -> Station | None:
    if value in (None, ""):
        return None
    station = db.session.get(Station, int(value)) if str(value).isdigit() else None
    if station is None:
        errors["station_id"] = [f"没有这个站点: {value} (no such station)"]
    elif (
        actor is not None
        and station.id != keep  # the visit's own station stays, whoever set it
        and station.township_id is not None
        and not policy.in_scope(actor, station.township_id)
    ):
        # a township's leader plans at their own township's stations
        errors["station_id"] = ["这个站点不在您的乡镇 (the station is outside your township)"]
        return None
    return station


def _start(value, errors: dict) -> tuple[float, float] | None:
    if value in (None, "", {}):
        return None
    if not isinstance(value, dict):
        errors["start"] = ["应为 {lon, lat}"]
        return None
    try:
        return parse_lonlat(value.get("lon"), value.get("lat"))
    except ValidationError as exc:
        errors.update({f"start.{k}": v for k, v in exc.errors.items()})
        return None


# --- plan ---------------------------------------------------------------------------
def create_visit(
    actor,
    *,
    title: str,
    form: str = "on_site",
    planned_for,
    issue_ids: list | None = None,
    stops: list | None = None,
    start: dict | None = None,
    start_label: str | None = None,
    station_id=None,
    leader_id=None,
    participants: dict | None = None,
    optimise: bool = False,
) -> Visit:
    """Plan a visit; stops are issue ids and/or free points, kept in the order given."""
    visit = Visit(status="planned", created_by_id=getattr(actor, "id", None), participants={})
    values = {
        "title": title,
        "form": form,
        "planned_for": planned_for,
        "stops": list(stops or []) + list(issue_ids or []) if stops or issue_ids else [],
        "start": start,
        "start_label": start_label,
        "station_id": station_id,
        "leader_id": leader_id,
        "participants": participants,
        "optimise": optimise,
    }
    _apply(visit, actor, values, creating=True)
    db.session.add(visit)
    db.session.flush()
    audit("visit.plan", actor, "visit", visit.id, {"stops": len(visit.stops)})
    signals.visit_planned.send(visit, actor=actor)
    return visit


def update_visit(visit: Visit, actor, **values) -> Visit:
    """Change a planned visit (any field of create_visit, or `stop_order` to reorder)."""
    if visit.status != "planned":
        raise Conflict(
            f"走访已{'举行' if visit.status == 'held' else '取消'}，不能再修改"
            f" (a {visit.status} visit cannot be changed)"
        )
    if "issue_ids" in values or "stops" in values:
        values["stops"] = list(values.pop("stops", None) or []) + list(
            values.pop("issue_ids", None) or []
        )
    _apply(visit, actor, values, creating=False)
    db.session.flush()
    audit("visit.update", actor, "visit", visit.id, {"fields": sorted(values)})
    return visit


def _apply(visit: Visit, actor, values: dict, creating: bool) -> None:
    """Check every value first; change the visit only when all are good."""
    errors: dict[str, list[str]] = {}
    changes: dict = {}
    if creating or "title" in values:
        title = (values.get("title") or "").strip()
        if not title:
            errors["title"] = ["请填写走访主题 (topic required)"]
        elif len(title) > MAX_TITLE:
            errors["title"] = [f"主题最多 {MAX_TITLE} 字 (at most {MAX_TITLE} characters)"]
        changes["title"] = title
    if creating or "form" in values:
        form = values.get("form") or "on_site"
        if form not in VISIT_FORMS:
            errors["form"] = [f"可选: {', '.join(VISIT_FORMS)}"]
        changes["form"] = form
    if creating or "planned_for" in values:
        try:
            planned = parse_date(values.get("planned_for"), "planned_for")
        except ValidationError as exc:
            errors.update(exc.errors)
            planned = None
        if planned is None and "planned_for" not in errors:
            errors["planned_for"] = ["请选择走访日期 (date required)"]
        elif planned is not None and planned < clock.today() and planned != visit.planned_for:
            # a new date must not be in the past (an unchanged one may have passed meanwhile)
            errors["planned_for"] = [
                f"走访日期 {planned.isoformat()} 已经过去，请选择今天或以后的日期"
                " (the planned date is in the past)"
            ]
        changes["planned_for"] = planned
    if creating or "leader_id" in values:
        changes["leader_id"] = _leader(values.get("leader_id"), actor, errors)
    station = None
    if creating or "station_id" in values:
        station = _station(values.get("station_id"), errors, actor, visit.station_id)
        changes["station_id"] = station.id if station else None
    if creating or "participants" in values:
        changes["participants"] = _participants(values.get("participants"), errors)
    start = _start_of(visit)
    if creating or "start" in values:
        start = _start(values.get("start"), errors)
        changes["start_location"] = point_element(*start) if start else None
        label = (values.get("start_label") or "").strip()[:200]
        changes["start_label"] = (label or None) if start else None
    elif "start_label" in values:
        changes["start_label"] = (values.get("start_label") or "").strip()[:200] or None
    new_stops = None
    if creating or "stops" in values:
        try:
            new_stops = resolve_stops(values.get("stops") or [], actor, place=True)
        except ValidationError as exc:
            errors.update(exc.errors)
    if new_stops is not None and values.get("optimise"):
        new_stops = _ordered(new_stops, start)
    if changes.get("form", visit.form) == "on_site" and "issue_ids" not in errors:
        empty = not new_stops if new_stops is not None else not visit.stops
        if empty:
            errors["issue_ids"] = [
                "现场协商至少需要一个走访点：请在地图上点选问题"
                " (an on-site visit needs at least one stop)"
            ]
    rows = None
    if new_stops is not None:
        rows = [
            VisitStop(
                position=i,
                issue_id=stop["issue"].id if stop["issue"] else None,
                location=point_element(stop["lon"], stop["lat"]),
                label=stop["label"],
                area_id=stop["area_id"],
                township_id=stop["township_id"],
            )
            for i, stop in enumerate(new_stops)
        ]
    if values.get("stop_order") is not None and "issue_ids" not in errors:
        try:
            rows = _in_order(rows if rows is not None else list(visit.stops), values["stop_order"])
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError(_summary(errors), errors)
    for name, value in changes.items():
        setattr(visit, name, value)
    if rows is not None:
        for position, row in enumerate(rows):
            row.position = position
        if new_stops is not None:
            visit.stops = rows
        else:
            visit.stops.sort(key=lambda s: s.position)
    visit.township_id = _township_of(visit, new_stops, station)
    visit.updated_at = clock.now()


def _summary(errors: dict) -> str:
    first = next(iter(errors.values()))[0]
    return first if len(errors) == 1 else f"{first}（共 {len(errors)} 处有误）"


def _start_of(visit: Visit) -> tuple[float, float] | None:
    return lonlat_of(visit.start_location) if visit.start_location is not None else None


def _ordered(stops: list[dict], start) -> list[dict]:
    order = routing.suggest_order([(s["lon"], s["lat"]) for s in stops], start)
    return [stops[i] for i in order]


def _township_of(visit: Visit, new_stops, station) -> int | None:
    """The visit's township: where most stops are, else the station's, else as before."""
    townships = (
        [s["township_id"] for s in new_stops]
        if new_stops is not None
        else [s.township_id for s in visit.stops]
    )
    counted = Counter(t for t in townships if t)
    if counted:
        return counted.most_common(1)[0][0]
    station = station or (db.session.get(Station, visit.station_id) if visit.station_id else None)
    if station is not None and station.township_id:
        return station.township_id
    return visit.township_id


def _in_order(stops: list[VisitStop], order) -> list[VisitStop]:
    """Return the stops in `order`: their issue ids, or positions 0…n-1 (for free points)."""
    message = (
        "stop_order 应列出全部走访点各一次：问题编号，或位置 0…n-1"
        " (list every stop once: issue ids, or positions 0…n-1)"
    )
    if not isinstance(order, list | tuple) or len(order) != len(stops):
        raise ValidationError(message, {"stop_order": [message]})
    try:
        wanted = [int(v) for v in order]
    except (TypeError, ValueError):
        raise ValidationError(message, {"stop_order": [message]}) from None
    by_issue = {s.issue_id: s for s in stops if s.issue_id is not None}
    if len(by_issue) == len(stops) and sorted(wanted) == sorted(by_issue):
        return [by_issue[v] for v in wanted]
    if sorted(wanted) == list(range(len(stops))):
        return [stops[v] for v in wanted]
    raise ValidationError(message, {"stop_order": [message]})


# --- hold and cancel ---------------------------------------------------------------------
ACTION_FIELDS = ("unit", "due_on", "note", "answer_class", "reason", "duplicate_of")


def hold(
    visit: Visit,
    held_on,
    attendance: dict | None,
    opinions: str | None,
    actions: list[dict] | None,
    actor,
) -> Visit:
    """Record that the visit took place and apply every agreed action, all or nothing."""
    if visit.status != "planned":
        raise Conflict(
            f"这次走访已{'举行' if visit.status == 'held' else '取消'}"
            f" (the visit is already {visit.status})"
        )
    errors: dict[str, list[str]] = {}
    try:
        held = parse_date(held_on, "held_on") or clock.today()
    except ValidationError as exc:
        errors.update(exc.errors)
        held = None
    if held is not None and held > clock.today():
        errors["held_on"] = ["举行日期不能晚于今天 (the date cannot be in the future)"]
    attendance = attendance or {}
    if not isinstance(attendance, dict):
        errors["attendance"] = ["应为 {members, officials, residents}"]
        attendance = {}
    counts = {
        key: _count(attendance.get(key), f"attendance.{key}", errors)
        for key in ("members", "officials", "residents")
    }
    opinions = (opinions or "").strip()
    if len(opinions) > MAX_TEXT:
        errors["opinions"] = [f"协商意见最多 {MAX_TEXT} 字"]
    stop_issues = {s.issue_id for s in visit.stops if s.issue_id is not None}
    actions = [dict(a) if isinstance(a, dict) else a for a in (actions or [])]
    for index, action in enumerate(actions):
        if not isinstance(action, dict):
            errors[f"actions.{index}"] = ["应为 {issue_id, to, unit, due_on, note}"]
            continue
        found = find_issue(action.get("issue_id"))
        if found is None:
            errors[f"actions.{index}.issue_id"] = [f"没有这个问题: {action.get('issue_id')}"]
            continue
        issue_id = action["issue_id"] = found.id
        if issue_id not in stop_issues:
            errors[f"actions.{index}.issue_id"] = [
                "只能对本次走访的问题商定措施 (only the visit's own problems)"
            ]
        if not action.get("to"):
            errors[f"actions.{index}.to"] = ["请选择处理结果 (the move to make)"]
    if errors:
        raise ValidationError(_summary(errors), errors)
    applied = []
    events = []
    with db.session.begin_nested():  # one bad action: none of them stays
        for index, action in enumerate(actions):
            issue = get_issue(action["issue_id"], lock=True)
            try:
                event = transition(
                    issue,
                    action["to"],
                    actor,
                    note=action.get("note"),
                    unit=action.get("unit") or None,
                    due_on=action.get("due_on") or None,
                    answer_class=action.get("answer_class") or None,
                    reason=action.get("reason") or action.get("note"),
                    duplicate_of=action.get("duplicate_of") or None,
                    data={"visit_id": visit.id},
                )
            except FieldwatchError as exc:
                raise _action_error(exc, index, issue) from exc
            events.append(event)
            applied.append(
                {
                    "issue_id": issue.id,
                    "ref": issue.ref,
                    "to": event.to_status,
                    "unit": (event.data or {}).get("unit") or action.get("unit") or None,
                    "due_on": (event.data or {}).get("due_on") or None,
                    "note": (action.get("note") or "").strip() or None,
                    "event_id": event.id,
                }
            )
        visit.status = "held"
        visit.held_on = held
        visit.attendance = counts
        visit.opinions = opinions or None
        visit.actions = applied
        visit.updated_at = clock.now()
        db.session.flush()
    audit("visit.hold", actor, "visit", visit.id, {"actions": len(applied)})
    signals.visit_held.send(visit, actor=actor, events=events)
    return visit


def _action_error(exc: FieldwatchError, index: int, issue: Issue) -> FieldwatchError:
    """The same kind of error, naming the action (0-based in fields, 1-based in words)."""
    prefix = f"actions.{index}"
    errors = {f"{prefix}.{field}": msgs for field, msgs in exc.errors.items()}
    message = (
        f"第 {index + 1} 项商定措施（{issue.ref}）无法执行，所有措施均未生效：{exc.message}"
        f" (action {index} failed; nothing was applied)"
    )
    errors.setdefault(prefix, []).append(message)
    error = type(exc)(message, errors)
    error.status = exc.status
    return error


def cancel(visit: Visit, reason: str | None, actor) -> Visit:
    """Cancel a planned visit, keeping the reason."""
    if visit.status != "planned":
        raise Conflict(
            f"这次走访已{'举行' if visit.status == 'held' else '取消'}"
            f" (the visit is already {visit.status})"
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "请填写取消原因 (a reason is required)", {"reason": ["请填写取消原因"]}
        )
    if len(reason) > MAX_TEXT:
        raise ValidationError("取消原因太长", {"reason": [f"最多 {MAX_TEXT} 字"]})
    visit.status = "cancelled"
    visit.cancel_reason = reason
    visit.updated_at = clock.now()
    db.session.flush()
    audit("visit.cancel", actor, "visit", visit.id, {"reason": reason})
    signals.visit_cancelled.send(visit, actor=actor)
    return visit
