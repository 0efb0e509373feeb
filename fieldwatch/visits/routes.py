"""Visit pages: the calendar/list, the planner on a map, a visit's record (hold, cancel),
and its printable itinerary."""

from __future__ import annotations

import json
from datetime import date, timedelta

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select, text

from fieldwatch import clock, policy
from fieldwatch.areas import queries as areas
from fieldwatch.errors_core import FieldwatchError, NotFound, ValidationError
from fieldwatch.extensions import db
from fieldwatch.forms import put_errors, submit
from fieldwatch.geo import lonlat_of
from fieldwatch.issues.present import STATUS_LABELS as ISSUE_STATUS_NAMES
from fieldwatch.map import builders
from fieldwatch.map.basemap import current_basemap
from fieldwatch.models import Area, Category, Issue, IssueEvent, Station, Unit, User, Visit
from fieldwatch.models.visits import VISIT_FORMS, VISIT_STATUSES
from fieldwatch.visits import queries, services
from fieldwatch.visits.api import refuse_nul
from fieldwatch.visits.forms import ERROR_FIELDS, CancelForm, HoldForm, VisitForm
from fieldwatch.visits.present import (
    FORM_NAMES,
    STATUS_NAMES,
    participant_names,
    stop_rows,
)

bp = Blueprint("visits", __name__, url_prefix="/visits")
bp.before_request(refuse_nul)

#: the planner's default batch distance, metres
DEFAULT_EPS_M = 800
#: the agreed action a page offers for a problem in each status (→ lifecycle moves)
MOVES_BY_STATUS = {
    "reported": ("accept", "assign", "reject"),
    "accepted": ("assign", "reject"),
    "in_progress": ("reassign", "resolve"),
    "resolved": (),
}
MOVE_NAMES = {
    "accept": _l("立项"),
    "assign": _l("交办承办单位（立项并指定单位和期限）"),
    "reassign": _l("转办其他单位"),
    "resolve": _l("现场办结（答复 A/B/C）"),
    "reject": _l("不予立项"),
}


# --- helpers ----------------------------------------------------------------------------
def _embed(m):
    return builders.embed(m, url_for("static", filename=""), getattr(g, "csp_nonce", ""))


def _visit_or_404(visit_id: int, action: str = "visits.view") -> Visit:
    visit = services.get_visit(visit_id)
    if not policy.can(current_user, "visits.view", visit):
        raise NotFound(_("没有这次走访。"))
    policy.require(current_user, action, visit)
    return visit


def issue_url(issue_id: int | None) -> str | None:
    """Return the issue page's URL where the issue pages exist (else None)."""
    if not issue_id:
        return None
    for endpoint in ("issues.detail", "issues.show"):
        rules = current_app.url_map._rules_by_endpoint.get(endpoint)
        if rules:
            argument = next(iter(rules[0].arguments), "issue_id")
            return url_for(endpoint, **{argument: issue_id})
    return None


def _show_errors(form, exc: FieldwatchError) -> None:
    """Put a service's field errors on the form's fields; flash what no field shows."""
    _flash_problems(put_errors(form, exc, ERROR_FIELDS))


def _flash_problems(problems: list[str]) -> None:
    for message in problems:
        flash(message, "danger")


def _month(value: str | None) -> date:
    try:
        year, number = (int(x) for x in (value or "").split("-"))
        if not 1900 <= year <= 2100:
            raise ValueError
        return date(year, number, 1)
    except ValueError:
        return clock.today().replace(day=1)


# --- the calendar and list ------------------------------------------------------------------
@bp.route("/")
@login_required
def index():
    """Show the month's visits as a calendar and a list, with filters."""
    policy.require(current_user, "visits.view")
    month = _month(request.args.get("month"))
    status = request.args.get("status") if request.args.get("status") in VISIT_STATUSES else None
    form = request.args.get("form") if request.args.get("form") in VISIT_FORMS else None
    township = (request.args.get("township") or "").strip() or None
    filters = queries.VisitFilter(status=status, form=form, township=township)
    data = queries.month_calendar(current_user, month, filters)
    previous = (month.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = (queries.month_bounds(month)[1] + timedelta(days=1)).replace(day=1)
    args = {k: v for k, v in request.args.items() if k != "month" and v}
    inactive = []
    if current_user.role in queries.STAFF:
        inactive = queries.stations_without_activity(90, clock.today())
    counts = {s: sum(1 for v in data["visits"] if v.status == s) for s in VISIT_STATUSES}
    return render_template(
        "visits/index.html",
        month=month,
        today=clock.today(),
        data=data,
        counts=counts,
        filters=filters,
        townships=areas.list_areas(level="township", limit=5000),
        township_names=_township_names(),
        prev_url=url_for(".index", **args, month=previous.strftime("%Y-%m")),
        next_url=url_for(".index", **args, month=following.strftime("%Y-%m")),
        this_month_url=url_for(".index", **args),
        inactive=inactive,
        form_names=FORM_NAMES,
        status_names=STATUS_NAMES,
    )


def _township_names() -> dict:
    return dict(
        db.session.execute(select(Area.id, Area.name).where(Area.level == "township")).all()
    )


# --- the planner ---------------------------------------------------------------------------
def _choices(form: VisitForm, visit: Visit | None = None) -> None:
    leaders = db.session.scalars(
        select(User).where(User.role.in_(("leader", "admin")), User.active).order_by(User.name)
    ).all()
    form.leader_id.choices = [(str(u.id), u.name) for u in leaders]
    today = clock.today()
    query = select(Station).where((Station.closed_on.is_(None)) | (Station.closed_on > today))
    scope = getattr(current_user, "township_id", None)
    if scope is not None:
        # a township's leader plans at the township's stations (and keeps the visit's own)
        allowed = (Station.township_id == scope) | Station.township_id.is_(None)
        if visit is not None and visit.station_id is not None:
            allowed = allowed | (Station.id == visit.station_id)
        query = query.where(allowed)
    stations = db.session.scalars(query.order_by(Station.township_id, Station.name)).all()
    form.station_id.choices = [("", _("（不在站点）"))] + [(str(s.id), s.name) for s in stations]
    members = db.session.scalars(
        select(User).where(User.role == "member", User.active).order_by(User.name)
    ).all()
    form.members.choices = [
        (u.id, f"{u.name}{' · ' + u.sector if u.sector else ''}") for u in members
    ]
    units = db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name)).all()
    form.units.choices = [(u.code, u.name) for u in units]


def _parse_stops(raw: str | None) -> list:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        raise ValidationError(
            _("走访点数据无效"), {"issue_ids": [_("请重新在地图上选择")]}
        ) from None
    if not isinstance(value, list):
        raise ValidationError(_("走访点数据无效"), {"issue_ids": [_("请重新在地图上选择")]})
    return value


def _values(form: VisitForm) -> dict:
    start = None
    if form.start_lon.data and form.start_lat.data:
        start = {"lon": form.start_lon.data, "lat": form.start_lat.data}
    return {
        "title": form.title.data,
        "form": form.form.data,
        "planned_for": form.planned_for.data,
        "leader_id": form.leader_id.data or None,
        "station_id": form.station_id.data or None,
        "participants": {
            "members": form.members.data or [],
            "units": form.units.data or [],
            "residents": form.residents.data or 0,
        },
        "start": start,
        "start_label": form.start_label.data,
        "stops": _parse_stops(form.stops.data),
    }


def _selection(raw: str | None) -> list[dict]:
    """Return the stops of a submitted form (or a visit) for the planner to show again."""
    try:
        items = _parse_stops(raw)
    except ValidationError:
        return []
    out = []
    for item in items:
        ident = item.get("issue_id") if isinstance(item, dict) else item
        if ident not in (None, ""):
            issue = services.find_issue(ident)
            if issue is not None:
                lon, lat = lonlat_of(issue.location)
                out.append(
                    {
                        "issue_id": issue.id,
                        "ref": issue.ref,
                        "title": issue.title,
                        "status": issue.status,
                        "lon": lon,
                        "lat": lat,
                    }
                )
        elif isinstance(item, dict):
            try:
                lon, lat = float(item.get("lon")), float(item.get("lat"))
            except (TypeError, ValueError):
                continue
            out.append({"issue_id": None, "title": item.get("label") or "", "lon": lon, "lat": lat})
    return out


def _township_boxes() -> list[dict]:
    rows = db.session.execute(
        text(
            """
            SELECT code, name, ST_XMin(e) x0, ST_YMin(e) y0, ST_XMax(e) x1, ST_YMax(e) y1
            FROM (SELECT code, name, ST_Extent(COALESCE(boundary, location)) e FROM areas
                  WHERE level = 'township' GROUP BY code, name) s
            WHERE e IS NOT NULL ORDER BY code
            """
        )
    ).all()
    return [{"code": r.code, "name": r.name, "bbox": [r.x0, r.y0, r.x1, r.y1]} for r in rows]


def _office() -> dict | None:
    county = db.session.scalar(
        select(Area).where(Area.level == "county", Area.location.is_not(None)).order_by(Area.code)
    )
    if county is None:
        return None
    lon, lat = lonlat_of(county.location)
    return {"lon": lon, "lat": lat, "label": _("政协办公室（%(name)s）", name=county.name)}


def _planner_page(form: VisitForm, visit: Visit | None, selection: list[dict], status: int = 200):
    basemap = current_basemap()
    scope = current_user.township_id
    township = request.args.get("township") or ""
    boxes = _township_boxes()
    if scope:
        scope_code = db.session.scalar(select(Area.code).where(Area.id == scope))
        boxes = [b for b in boxes if b["code"] == scope_code]
        township = scope_code or township
    chosen = next((b for b in boxes if b["code"] == township), None)
    bounds = tuple(chosen["bbox"]) if chosen else areas.extent("township")
    outlines = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(row.geometry),
                "properties": {"name": row.name},
            }
            for row in areas.outlines("township", tolerance=0.001)
        ],
    }
    labels = {"fullscreen": _("全屏"), "exit_fullscreen": _("退出全屏")}
    m = builders.planner_map(basemap, bounds, outlines, labels)
    parts = _embed(m)
    draw_name = next(
        (c.get_name() for c in m._children.values() if type(c).__name__ == "Draw"), None
    )
    names = _township_names()
    stations = sorted(
        (
            {
                "id": s.id,
                "name": s.name,
                "township": names.get(s.township_id, ""),
                "lon": lonlat_of(s.location)[0],
                "lat": lonlat_of(s.location)[1],
            }
            for s in db.session.scalars(
                select(Station).where(
                    (Station.closed_on.is_(None)) | (Station.closed_on > clock.today())
                )
            )
        ),
        key=lambda s: (s["township"], s["name"]),
    )
    config = {
        "map": parts.name,
        "draw": draw_name,
        "gcj02": basemap.gcj02,
        "urls": {
            "candidates": url_for("visits_api.candidates"),
            "batches": url_for("visits_api.batches"),
            "route": url_for("visits_api.route"),
        },
        "township": chosen["code"] if chosen else "",
        "townships": boxes,
        "stations": stations,
        "office": _office(),
        "selection": selection,
        "start": _start_of_form(form),
        "eps_m": DEFAULT_EPS_M,
        "status_names": {k: str(v) for k, v in ISSUE_STATUS_NAMES.items()},
        "strings": _planner_strings(),
    }
    categories = db.session.scalars(
        select(Category).where(Category.active).order_by(Category.name)
    ).all()
    return (
        render_template(
            "visits/plan.html",
            form=form,
            visit=visit,
            map_parts=parts,
            config=config,
            categories=categories,
            townships=boxes,
            chosen=chosen,
            status_names=ISSUE_STATUS_NAMES,
        ),
        status,
    )


def _start_of_form(form: VisitForm) -> dict | None:
    try:
        lon, lat = float(form.start_lon.data), float(form.start_lat.data)
    except (TypeError, ValueError):
        return None
    return {
        "lon": lon,
        "lat": lat,
        "label": form.start_label.data or "",
        "kind": form.start_kind.data or "click",
    }


def _planner_strings() -> dict:
    return {
        "loading": _("正在加载候选问题…"),
        "load_failed": _("加载失败，请稍后重试。"),
        "candidates": _("候选问题 %(n)s 个", n="{n}"),
        "more": _("（仅显示前 %(n)s 个，请缩小范围）", n="{n}"),
        "none": _("这里没有符合条件的问题。换个乡镇、放宽筛选或移动地图试试。"),
        "add": _("加入路线"),
        "remove": _("移出路线"),
        "up": _("上移"),
        "down": _("下移"),
        "km": _("公里"),
        "total": _("全程约 %(km)s 公里（直线距离）", km="{km}"),
        "no_stops": _("还没有走访点：在地图上点击问题加入路线，或采用下面的分批建议。"),
        "from_start": _("距出发点"),
        "from_previous": _("距上一站"),
        "first_stop": _("第一站"),
        "free_point": _("自选地点"),
        "free_point_prompt": _("这个地点的名称（如：村委会）"),
        "batch": _("第 %(n)s 批", n="{n}"),
        "batch_count": _("%(n)s 个问题", n="{n}"),
        "take_batch": _("按此批规划"),
        "no_batches": _("按这个距离没有成批的问题：加大距离再试。"),
        "loners": _("另有 %(n)s 个问题离其他问题较远", n="{n}"),
        "pick_start": _("请在地图上点击出发点"),
        "pick_point": _("请在地图上点击要加入的地点"),
        "start": _("出发点"),
        "area_set": _("已按画出的范围筛选"),
        "reordered": _("已按最短路线排序"),
        "overdue": _("超期"),
        "lookback_overdue": _("回头看超期"),
        "reopened": _("回头看后重新办理"),
        "urgent": _("紧急"),
        "legend": _("图例"),
        "legend_alarm": _("红圈：超期、回头看超期或重新办理"),
        "legend_stop": _("路线顺序"),
    }


@bp.route("/plan", methods=["GET", "POST"])
@login_required
def plan():
    """Plan a visit on the map: candidates, batches, the ordered route; save it."""
    policy.require(current_user, "visits.plan")
    form = VisitForm()
    _choices(form)
    if request.method == "GET":
        form.leader_id.data = str(current_user.id)
        form.planned_for.data = clock.today()
        return _planner_page(form, None, [])
    done = submit(form, lambda: services.create_visit(current_user, **_values(form)), ERROR_FIELDS)
    if done:
        flash(_("走访已保存。"), "success")
        return redirect(url_for(".detail", visit_id=done.value.id))
    _flash_problems(done.problems)
    return _planner_page(form, None, _selection(form.stops.data), 422)


@bp.route("/<int:visit_id>/edit", methods=["GET", "POST"])
@login_required
def edit(visit_id: int):
    """Change a planned visit in the planner (stops, order, people, date)."""
    visit = _visit_or_404(visit_id, "visits.plan")
    if visit.status != "planned":
        flash(_("已举行或已取消的走访不能再修改。"), "warning")
        return redirect(url_for(".detail", visit_id=visit.id))
    form = VisitForm()
    _choices(form, visit)
    if request.method == "GET":
        _fill(form, visit)
        return _planner_page(form, visit, _selection(form.stops.data))

    def save():
        values = _values(form)
        if values["planned_for"] == visit.planned_for:
            values.pop("planned_for")  # an unchanged date may have passed meanwhile
        return services.update_visit(visit, current_user, **values)

    done = submit(form, save, ERROR_FIELDS)
    if done:
        flash(_("走访已保存。"), "success")
        return redirect(url_for(".detail", visit_id=visit_id))
    _flash_problems(done.problems)
    return _planner_page(form, visit, _selection(form.stops.data), 422)


def _fill(form: VisitForm, visit: Visit) -> None:
    form.title.data = visit.title
    form.form.data = visit.form
    form.planned_for.data = visit.planned_for
    form.leader_id.data = str(visit.leader_id or "")
    form.station_id.data = str(visit.station_id or "")
    value = visit.participants or {}
    form.members.data = list(value.get("members") or [])
    form.units.data = list(value.get("units") or [])
    form.residents.data = value.get("residents") or 0
    stops = []
    for stop in visit.stops:
        if stop.issue_id:
            stops.append({"issue_id": stop.issue_id})
        else:
            lon, lat = lonlat_of(stop.location)
            stops.append({"lon": lon, "lat": lat, "label": stop.label or ""})
    form.stops.data = json.dumps(stops)
    if visit.start_location is not None:
        lon, lat = lonlat_of(visit.start_location)
        form.start_lon.data, form.start_lat.data = str(lon), str(lat)
        form.start_label.data = visit.start_label or ""
        form.start_kind.data = "click"


# --- a visit's record ---------------------------------------------------------------------------
def _route_parts(visit: Visit, rows: list[dict]):
    start = None
    if visit.start_location is not None:
        lon, lat = lonlat_of(visit.start_location)
        start = {"lon": lon, "lat": lat, "label": visit.start_label}
    m = builders.visit_route_map(rows, start, current_basemap(), {"start": _("出发点")})
    return _embed(m)


def _record_context(visit: Visit) -> dict:
    rows = stop_rows(visit)
    issues = {
        i.id: i
        for i in db.session.scalars(
            select(Issue).where(Issue.id.in_([r["issue_id"] for r in rows if r["issue_id"]] or [0]))
        )
    }
    photos = []
    if visit.status == "held":
        from fieldwatch.photos.services import photo_urls, photos_of

        photos = [photo_urls(p) for p in photos_of(visit)]
    units = db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name)).all()
    unit_names = dict(db.session.execute(select(Unit.code, Unit.name)).all())
    return {
        "unit_names": unit_names,
        "visit": visit,
        "rows": rows,
        "issues": issues,
        "route": queries.route_of(visit),
        "map_parts": _route_parts(visit, rows),
        "people": participant_names(visit),
        "leader": db.session.get(User, visit.leader_id) if visit.leader_id else None,
        "station": db.session.get(Station, visit.station_id) if visit.station_id else None,
        "township": db.session.get(Area, visit.township_id) if visit.township_id else None,
        "photos": photos,
        "units": units,
        "form_names": FORM_NAMES,
        "status_names": STATUS_NAMES,
        "issue_status_names": ISSUE_STATUS_NAMES,
        "moves_by_status": MOVES_BY_STATUS,
        "move_names": MOVE_NAMES,
        "issue_url": issue_url,
        "today": clock.today(),
    }


def _record_page(visit: Visit, hold_form=None, cancel_form=None, action_errors=None, status=200):
    hold_form = hold_form or HoldForm(formdata=None, held_on=clock.today())
    cancel_form = cancel_form or CancelForm(formdata=None)
    return (
        render_template(
            "visits/detail.html",
            hold_form=hold_form,
            cancel_form=cancel_form,
            action_errors=action_errors or {},
            posted=request.form if request.method == "POST" else {},
            **_record_context(visit),
        ),
        status,
    )


@bp.route("/<int:visit_id>")
@login_required
def detail(visit_id: int):
    """Show a visit: route map, ordered stops, people; the holding and cancel forms."""
    return _record_page(_visit_or_404(visit_id))


def _actions_from(form_data, visit: Visit) -> tuple[list[dict], list[int]]:
    """Turn the per-problem choices into lifecycle actions; also return each action's issue."""
    actions, owners = [], []
    for stop in visit.stops:
        if not stop.issue_id:
            continue
        key = f"action-{stop.issue_id}"
        move = form_data.get(f"{key}-move") or ""
        note = (form_data.get(f"{key}-note") or "").strip() or None
        unit = form_data.get(f"{key}-unit") or None
        due_on = form_data.get(f"{key}-due_on") or None
        issue = db.session.get(Issue, stop.issue_id)
        steps: list[dict] = []
        if move == "accept":
            steps = [{"to": "accepted", "note": note}]
        elif move == "assign":
            if issue.status == "reported":
                steps.append({"to": "accepted"})
            steps.append({"to": "in_progress", "unit": unit, "due_on": due_on, "note": note})
        elif move == "reassign":
            steps = [{"to": "in_progress", "unit": unit, "note": note}]
        elif move == "resolve":
            answer = form_data.get(f"{key}-answer_class") or None
            steps = [{"to": "resolved", "answer_class": answer, "note": note, "due_on": due_on}]
        elif move == "reject":
            steps = [{"to": "rejected", "reason": note, "note": note}]
        for step in steps:
            actions.append({"issue_id": stop.issue_id, **step})
            owners.append(stop.issue_id)
    return actions, owners


@bp.route("/<int:visit_id>/hold", methods=["POST"])
@login_required
def hold(visit_id: int):
    """Record the visit as held: attendance, opinions, agreed actions, photos (all or nothing)."""
    visit = _visit_or_404(visit_id, "visits.hold")
    form = HoldForm()
    actions, owners = _actions_from(request.form, visit)
    if not form.validate_on_submit():
        return _record_page(visit, hold_form=form, status=422)
    try:
        services.hold(
            visit,
            form.held_on.data,
            {
                "members": form.members.data,
                "officials": form.officials.data,
                "residents": form.residents.data,
            },
            form.opinions.data,
            actions,
            current_user,
        )
        from fieldwatch.photos.services import attach_photo

        for upload in form.photos.data or []:
            if getattr(upload, "filename", ""):
                attach_photo(visit, upload, current_user)
        db.session.commit()
    except FieldwatchError as exc:
        db.session.rollback()
        action_errors: dict[int, list[str]] = {}
        for key, messages in exc.errors.items():
            if key.startswith("actions."):
                index = int(key.split(".")[1])
                if index < len(owners):
                    action_errors.setdefault(owners[index], []).extend(messages)
        if not action_errors:
            _show_errors(form, exc)
        else:
            flash(exc.message, "danger")
        visit = services.get_visit(visit_id)
        return _record_page(visit, hold_form=form, action_errors=action_errors, status=exc.status)
    flash(_("已记录走访结果，商定的措施均已生效。"), "success")
    return redirect(url_for(".detail", visit_id=visit.id))


@bp.route("/<int:visit_id>/cancel", methods=["POST"])
@login_required
def cancel(visit_id: int):
    """Cancel a planned visit with a reason."""
    visit = _visit_or_404(visit_id, "visits.cancel")
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.cancel(visit, form.reason.data, current_user)
            db.session.commit()
        except FieldwatchError as exc:
            db.session.rollback()
            _show_errors(form, exc)
            visit = services.get_visit(visit_id)
            return _record_page(visit, cancel_form=form, status=exc.status)
        flash(_("走访已取消。"), "info")
        return redirect(url_for(".detail", visit_id=visit.id))
    return _record_page(visit, cancel_form=form, status=422)


@bp.route("/<int:visit_id>/print")
@login_required
def print_view(visit_id: int):
    """Show the printable itinerary: map, ordered stops, each problem's photos and history."""
    visit = _visit_or_404(visit_id)
    context = _record_context(visit)
    ids = [r["issue_id"] for r in context["rows"] if r["issue_id"]]
    events: dict[int, list] = {}
    for event in db.session.scalars(
        select(IssueEvent).where(IssueEvent.issue_id.in_(ids or [0])).order_by(IssueEvent.id)
    ):
        events.setdefault(event.issue_id, []).append(event)
    from fieldwatch.photos.services import photo_urls, photos_of

    photos = {i: [photo_urls(p) for p in photos_of(context["issues"][i])] for i in ids}
    return render_template("visits/print.html", events=events, issue_photos=photos, **context)


# --- stations: what their pages show about visits -----------------------------------------------
def station_visits(station_id: int) -> list[Visit]:
    """The visits held at a station (for the station page)."""
    return queries.visits_at_station(station_id)


def station_inactive(station_id: int, days: int = 90) -> bool:
    """Whether an open station has had no visit held in the last `days` (for the station page)."""
    station = db.session.get(Station, station_id)
    return station is not None and queries.station_inactive(station, days, clock.today())


def register_routes(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(station_visits, "station_visits")
    app.add_template_global(station_inactive, "station_inactive")
    app.add_template_global(
        lambda visit_id: url_for("visits.detail", visit_id=visit_id), "visit_url"
    )
