"""Look-back pages: the board (`/followups`), recording on site, scheduling and assigning."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

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
from flask_login import current_user, login_required
from sqlalchemy import select

from fieldwatch import clock, policy
from fieldwatch.errors_core import Conflict, NotFound, ValidationError
from fieldwatch.extensions import db
from fieldwatch.followups import photos, present, queries, services
from fieldwatch.followups.forms import (
    FINDING_LABELS,
    KIND_LABELS,
    SATISFACTION_LABELS,
    AssignForm,
    RecordForm,
    ScheduleForm,
)
from fieldwatch.geo import lonlat_of
from fieldwatch.issues.services import get_issue
from fieldwatch.map import builders
from fieldwatch.map.basemap import wgs84_basemap
from fieldwatch.models import Area, IssueEvent, Unit

bp = Blueprint("followups", __name__, url_prefix="/followups")


def _options(user) -> dict:
    """Townships and units the filters offer (a scoped user sees only their township)."""
    townships = select(Area).where(Area.level == "township").order_by(Area.code)
    if getattr(user, "township_id", None):
        townships = townships.where(Area.id == user.township_id)
    units = select(Unit).where(Unit.active).order_by(Unit.name)
    return {"townships": db.session.scalars(townships).all(), "units": db.session.scalars(units)}


def _filters():
    """Read the board's filters: quarter, township code, unit code, breakdown dimension."""
    period = queries.parse_quarter(request.args.get("quarter"))
    township_code = request.args.get("township") or None
    unit_code = request.args.get("unit") or None
    township_id = unit_id = None
    if township_code:
        township_id = db.session.scalar(
            select(Area.id).where(Area.code == township_code, Area.level == "township")
        )
    if unit_code:
        unit_id = db.session.scalar(select(Unit.id).where(Unit.code == unit_code))
    scope = queries.Scope.of(current_user, township_id, unit_id)
    by = request.args.get("by") if request.args.get("by") in queries.DIMENSIONS else "township"
    return period, scope, by, {"township": township_code, "unit": unit_code}


def _recent_quarters(count: int = 8) -> list[str]:
    labels, day = [], clock.today()
    for _i in range(count):
        period = queries.quarter_of(day)
        labels.append(queries.quarter_label(period))
        day = period.start - timedelta(days=1)
    return labels


@bp.route("/")
@login_required
def board():
    """The look-back board: due, overdue, done; counters, map and ranking for supervisors."""
    policy.require(current_user, "followups.view")
    period, scope, by, chosen = _filters()
    full = policy.can(current_user, "followups.board")
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        table = request.args.get("table", "lookbacks")
        if table != "lookbacks":
            policy.require(current_user, "followups.board")
        return present.export(fmt, table, period, scope, by)
    today = clock.today()
    context = {
        "period": period,
        "quarter": queries.quarter_label(period),
        "quarters": _recent_quarters(),
        "by": by,
        "chosen": chosen,
        "full": full,
        "today": today,
        # the look-backs someone can do now (not those waiting for the unit's rework)
        "overdue": queries.followups(scope, "overdue", limit=200, recordable=True),
        "due_week": queries.followups(
            scope, "due", limit=200, due_until=queries.week_end(today), recordable=True
        ),
        "done": queries.followups(scope, "done", limit=50, period=period),
        **_options(current_user),
    }
    if full:
        rows, totals = queries.breakdown(scope, period, by)
        watch, watch_count = present.watch_map(scope)
        context.update(
            headline=queries.headline(scope, period),
            rows=rows,
            totals=totals,
            ranking=queries.ranking(period, queries.Scope(scope.township_id)),
            weights=current_app.config["RANKING_WEIGHTS"],
            class_c=queries.class_c_to_review(scope, limit=100),
            watch=watch,
            watch_count=watch_count,
        )
    return render_template("followups/board.html", **context)


def _viewable(followup_id: int):
    """The look-back if the user may see it; otherwise 404 (never say it exists)."""
    followup = services.get_followup(followup_id)
    if not policy.can(current_user, "followups.view", followup):
        raise NotFound(_("没有这个回头看。"))
    return followup


@bp.route("/<int:followup_id>", methods=["GET", "POST"])
@login_required
def record(followup_id: int):
    """The look-back on a phone: where you are, what you find, photos; or what was found."""
    followup = _viewable(followup_id)
    form = RecordForm()
    status = 200
    if request.method == "POST":
        policy.require(current_user, "followups.record", followup)
        if form.validate_on_submit():
            try:
                recorded, _new = services.record_followup(
                    followup,
                    current_user,
                    form.finding.data,
                    form.lon.data or None,
                    form.lat.data or None,
                    form.accuracy_m.data or None,
                    form.note.data,
                    form.satisfaction.data or None,
                    form.client_id.data or None,
                )
                photos.attach_all(recorded, form.photos.data, current_user)
                db.session.commit()
                flash(present.outcome(recorded), "success")
                return redirect(url_for(".record", followup_id=followup_id))
            except ValidationError as exc:
                db.session.rollback()
                for name, messages in exc.errors.items():
                    target = getattr(form, name, None)
                    if target is not None and hasattr(target, "errors"):
                        target.errors = list(target.errors) + list(messages)
                    else:
                        flash(f"{exc.message}: {'; '.join(messages)}", "danger")
            except Conflict as exc:
                db.session.rollback()
                flash(exc.message, "warning")
                return redirect(url_for(".record", followup_id=followup_id))
        status = 422
    followup = services.get_followup(followup_id)
    return render_template("followups/record.html", **_record_context(followup, form)), status


def _record_context(followup, form) -> dict:
    issue = followup.issue
    targets = services._subject_point(followup)
    awaiting = issue is None or issue.status in services.AWAITING
    can_record = (
        followup.done_at is None
        and awaiting
        and policy.can(current_user, "followups.record", followup)
    )
    can_assign = followup.done_at is None and policy.can(
        current_user, "followups.schedule", followup
    )
    assign_form = AssignForm(prefix="assign")
    if can_assign:
        assign_form.assignee.choices = [("", _("（不指派）"))] + [
            (str(u.id), f"{u.name}（{u.login}）") for u in queries.inspectors(followup.township_id)
        ]
        assign_form.assignee.data = str(followup.assignee_id or "")
        assign_form.due_on.data = followup.due_on
    map_parts = None
    if targets:
        lon, lat = targets[0]
        label = issue.ref if issue is not None else followup.visit.title
        m = builders.lookback_map(
            lon,
            lat,
            label,
            current_app.config.get("ONSITE_DISTANCE_M", 200),
            basemap=wgs84_basemap(),
            recorded=lonlat_of(followup.location) if followup.location is not None else None,
            recorded_label=_("回头看人所在位置"),
        )
        map_parts = builders.embed(m, url_for("static", filename=""), g.csp_nonce)
    history = []
    if issue is not None:
        history = queries.followups(queries.Scope(), None, limit=50, issue_id=issue.id)[0]
    answer = None
    if issue is not None and issue.answer_class:
        answer = db.session.scalar(
            select(IssueEvent.note)
            .where(IssueEvent.issue_id == issue.id, IssueEvent.to_status == "resolved")
            .order_by(IssueEvent.id.desc())
            .limit(1)
        )
    return {
        "followup": followup,
        "answer": answer,
        "js_messages": present.js_messages(),
        "queue_js": (Path(current_app.static_folder) / "js" / "offline-queue.js").exists(),
        "queue_messages": present.queue_messages(),
        "sw_url": url_for("offline.service_worker")
        if "offline.service_worker" in current_app.view_functions
        else None,
        "row": queries.followup_row(followup.id),
        "issue": issue,
        "targets": [{"lon": t[0], "lat": t[1]} for t in targets],
        "form": form,
        "assign_form": assign_form,
        "can_record": can_record,
        "can_assign": can_assign,
        "awaiting": awaiting,
        "onsite_m": current_app.config.get("ONSITE_DISTANCE_M", 200),
        "map": map_parts,
        "history": [h for h in history if h.id != followup.id],
        "photos": photos.listed(followup),
        "issue_photos": photos.listed(issue) if issue is not None else [],
        "photos_enabled": photos.enabled(),
        "place_lonlat": lonlat_of(issue.location) if issue is not None else None,
    }


@bp.route("/<int:followup_id>/assign", methods=["POST"])
@login_required
def assign(followup_id: int):
    """Assign the inspector or move the due date (supervisors, admin)."""
    followup = _viewable(followup_id)
    policy.require(current_user, "followups.schedule", followup)
    form = AssignForm(prefix="assign")
    form.assignee.choices = [("", "")] + [
        (str(u.id), u.name) for u in queries.inspectors(followup.township_id)
    ]
    if not form.validate_on_submit():
        for name, messages in form.errors.items():
            flash(f"{getattr(form, name).label.text}: {'; '.join(messages)}", "danger")
        return redirect(url_for(".record", followup_id=followup_id))
    changes = {"assignee": form.assignee.data or None}
    if form.due_on.data and form.due_on.data != followup.due_on:
        changes["due_on"] = form.due_on.data
    try:
        services.update_followup(followup, current_user, **changes)
        db.session.commit()
        flash(_("已更新回头看安排。"), "success")
    except (ValidationError, Conflict) as exc:
        db.session.rollback()
        details = "; ".join(m for ms in exc.errors.values() for m in ms)
        flash(f"{exc.message} {details}".strip(), "danger")
    return redirect(url_for(".record", followup_id=followup_id))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Schedule an extra look-back or a spot check on a problem (supervisors, admin)."""
    policy.require(current_user, "followups.schedule")
    form = ScheduleForm()
    issue = None
    if request.method == "GET" and request.args.get("issue"):
        form.issue.data = request.args["issue"]
        try:
            issue = get_issue(request.args["issue"])
            if not policy.can(current_user, "issues.view", issue):
                raise NotFound("no such issue")  # another township's: show nothing of it
            form.kind.data = "spot_check" if issue.status == "closed" else "extra"
        except NotFound:
            issue = None
    if not form.due_on.data and request.method == "GET":
        form.due_on.data = clock.today() + timedelta(days=7)
    township_id = getattr(current_user, "township_id", None) or getattr(issue, "township_id", None)
    form.assignee.choices = [("", _("（不指派）"))] + [
        (str(u.id), f"{u.name}（{u.login}）") for u in queries.inspectors(township_id)
    ]
    if request.method == "POST":
        # the list offered depends on the problem; the service checks the chosen one's scope
        form.assignee.choices = [("", "")] + [(str(u.id), u.name) for u in _all_inspectors()]
    if form.validate_on_submit():
        try:
            issue = get_issue(form.issue.data)
            if not policy.can(current_user, "issues.view", issue):
                raise NotFound("no such issue")
        except NotFound:
            form.issue.errors = [_("没有这个问题编号")]
        else:
            try:
                followup = services.schedule_followup(
                    current_user,
                    issue=issue,
                    due_on=form.due_on.data,
                    kind=form.kind.data,
                    assignee=form.assignee.data or None,
                )
                db.session.commit()
                flash(_("已安排回头看。"), "success")
                return redirect(url_for(".record", followup_id=followup.id))
            except ValidationError as exc:
                db.session.rollback()
                for name, messages in exc.errors.items():
                    field = {"issue_id": "issue"}.get(name, name)
                    target = getattr(form, field, None)
                    if target is not None and hasattr(target, "errors"):
                        target.errors = list(target.errors) + list(messages)
                    else:
                        form.issue.errors = list(form.issue.errors) + list(messages)
            except Conflict as exc:
                db.session.rollback()
                form.issue.errors = [exc.message]
    status = 422 if request.method == "POST" else 200
    return render_template("followups/new.html", form=form, issue=issue), status


def _all_inspectors():
    from fieldwatch.models import User

    return db.session.scalars(
        select(User).where(User.active, User.role.in_(policy.LOOKBACK_RECORDERS))
    ).all()


def register_routes(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _labels() -> dict:
        return {
            "finding_labels": FINDING_LABELS,
            "satisfaction_labels": SATISFACTION_LABELS,
            "lookback_kinds": KIND_LABELS,
            "issue_url": present.issue_url,
            "lookback_status_label": present.status_label,
            "issue_lookbacks": present.issue_lookbacks,
        }
