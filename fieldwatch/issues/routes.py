"""Issue pages: the phone form, the list, the detail with its next moves."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from fieldwatch import clock, exports, policy
from fieldwatch.errors_core import FieldwatchError, Forbidden, NotFound, ValidationError
from fieldwatch.extensions import db
from fieldwatch.geo import lonlat_of
from fieldwatch.issues import offline, present, queries, services
from fieldwatch.issues.forms import (
    CommentForm,
    FilterForm,
    MoveForm,
    PhotoForm,
    ReportForm,
    category_choices,
    unit_choices,
)
from fieldwatch.issues.lifecycle import MOVES
from fieldwatch.models import Area, Category, Unit
from fieldwatch.models.issues import STATUSES

bp = Blueprint("issues", __name__, url_prefix="/issues")
PAGE_SIZE = 50
MOVE_TO = {m.name: m.to for m in MOVES}
#: moves a person makes from the detail page (look-backs make the others)
PAGE_MOVES = ("accept", "assign", "reassign", "resolve", "reject", "duplicate", "close_class_c")


def map_config() -> dict:
    """Return the base map for our Leaflet maps: tile layers and whether they are GCJ-02."""
    try:
        from fieldwatch.map.basemap import current_basemap
    except ModuleNotFoundError:
        return {"layers": [], "gcj02": False, "outlines": None}
    chosen = current_basemap()
    return {
        "layers": [
            {
                "url": layer.url,
                "attribution": layer.attribution,
                "subdomains": layer.subdomains,
                "max_zoom": layer.max_zoom,
            }
            for layer in chosen.layers
        ],
        "gcj02": chosen.gcj02,
        # with no base map, the village outlines help people see where they are
        "outlines": "/ogc/collections/villages/items" if "ogc" in current_app.blueprints else None,
    }


def _county_bounds() -> list[float] | None:
    from geoalchemy2 import functions as gf

    box = db.session.execute(
        select(
            gf.ST_XMin(gf.ST_Extent(Area.boundary)),
            gf.ST_YMin(gf.ST_Extent(Area.boundary)),
            gf.ST_XMax(gf.ST_Extent(Area.boundary)),
            gf.ST_YMax(gf.ST_Extent(Area.boundary)),
        ).where(Area.level == "township")
    ).one()
    return None if box[0] is None else [float(v) for v in box]


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _put_errors(form, errors: dict, aliases: dict | None = None) -> None:
    """Show a service's field errors on the form's fields (unknown ones at the top)."""
    aliases = aliases or {}
    for name, messages in errors.items():
        field = getattr(form, aliases.get(name, name), None)
        if field is None or not hasattr(field, "errors"):
            form.form_errors.extend(messages)
            continue
        field.errors = list(field.errors) + list(messages)


# --- the report form -----------------------------------------------------------------
@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """The phone form: where (GPS, photo or map), what (category, title, photos), duplicates."""
    policy.require(current_user, "issues.report")
    form = ReportForm()
    form.category.choices = category_choices()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                issue, created = services.report_issue(
                    current_user,
                    title=form.title.data,
                    category=form.category.data,
                    lon=form.lon.data,
                    lat=form.lat.data,
                    accuracy_m=form.accuracy_m.data or None,
                    location_source=form.location_source.data or "manual",
                    observed_at=_parse_time(form.observed_at.data),
                    description=form.description.data,
                    client_id=form.client_id.data or None,
                )
                if created:
                    from fieldwatch.photos.services import attach_photo

                    for upload in form.photos.data or []:
                        if upload and upload.filename:
                            attach_photo(issue, upload, current_user)
                db.session.commit()
                flash(_("已上报：%(ref)s", ref=issue.ref), "success")
                return redirect(url_for("issues.detail", issue_id=issue.ref))
            except ValidationError as exc:
                db.session.rollback()
                _put_errors(form, exc.errors, {"photo": "photos", "source": "location_source"})
        status = 422
    categories = {
        c.code: {"name": c.name, "radius": c.duplicate_radius_m}
        for c in db.session.scalars(select(Category).where(Category.active))
    }
    return render_template(
        "issues/new.html",
        form=form,
        map_config=map_config(),
        bounds=_county_bounds(),
        categories=categories,
        max_mb=current_app.config.get("MAX_PHOTO_BYTES", 15 * 1024 * 1024) // (1024 * 1024),
        status_labels={k: str(v) for k, v in present.STATUS_LABELS.items()},
    ), status


# --- the list ----------------------------------------------------------------------
def _filter_choices(form: FilterForm) -> None:
    form.status.choices = [("", _("全部状态")), ("open", _("未办结"))] + [
        (s, str(present.STATUS_LABELS[s])) for s in STATUSES
    ]
    form.category.choices = [("", _("全部类别"))] + category_choices()[1:]
    townships = db.session.scalars(
        select(Area).where(Area.level == "township").order_by(Area.code)
    ).all()
    scope = getattr(current_user, "township_id", None)
    form.township.choices = [("", _("全部乡镇"))] + [
        (t.code, t.name) for t in townships if scope is None or t.id == scope
    ]
    form.unit.choices = [("", _("全部单位"))] + unit_choices()[1:]


@bp.route("")
@login_required
def index():
    """The issues the user may see, with filters and pages."""
    policy.require(current_user, "issues.view")
    form = FilterForm(request.args)
    _filter_choices(form)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    status = form.status.data or ""
    statuses = (
        list(queries.UNANSWERED) + ["resolved"]
        if status == "open"
        else ([status] if status in STATUSES else None)
    )

    def code_id(model, code, **where):
        if not code:
            return None
        query = select(model.id).where(model.code == code)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return db.session.scalar(query) or -1

    download = request.args.get("format") in ("csv", "xlsx")  # the whole filtered list
    rows, total = queries.list_issues(
        policy.issue_rows(current_user),
        statuses=statuses,
        category_id=code_id(Category, form.category.data),
        township_id=code_id(Area, form.township.data, level="township"),
        unit_id=code_id(Unit, form.unit.data),
        overdue=bool(form.overdue.data),
        today=clock.today(),
        q=(form.q.data or "").strip() or None,
        limit=exports.MAX_ROWS if download else PAGE_SIZE,
        offset=0 if download else (page - 1) * PAGE_SIZE,
    )
    if download:
        contact = policy.can(current_user, "issues.view_contact")
        return exports.issue_export(request.args["format"], rows, with_contact=contact)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    args = {k: v for k, v in request.args.items() if k not in ("page", "format") and v}
    filtered = bool(args)
    return render_template(
        "issues/index.html",
        form=form,
        issues=rows,
        total=total,
        page=page,
        pages=pages,
        args=args,
        filtered=filtered,
        today=clock.today(),
        present=present,
    )


# --- one issue ------------------------------------------------------------------------
def _visible(issue_id: str):
    try:
        issue = services.get_issue(issue_id)
    except NotFound:
        raise
    if not policy.can(current_user, "issues.view", issue):
        raise NotFound(_("没有这个问题 (no such issue)"))
    return issue


def _detail(issue, move_form=None, comment_form=None, photo_form=None, open_move=None, status=200):
    moves = [m for m in services.next_moves(issue, current_user) if m in PAGE_MOVES]
    move_form = move_form or MoveForm()
    move_form.unit.choices = unit_choices(issue.township_id)
    lon, lat = lonlat_of(issue.location)
    rows = []
    if issue.is_open:
        rows = queries.possible_duplicates(issue, 5, **policy.issue_rows(current_user))
    duplicates = [present.near_item(r) for r in rows]
    others = [{"lon": r.lon, "lat": r.lat, "label": f"{r.ref} {r.title}"} for r in rows]
    events = [
        {**present.event_item(e, current_user, issue), "at_dt": e.created_at} for e in issue.events
    ]
    units = {u.code: u.name for u in db.session.scalars(select(Unit))}
    return render_template(
        "issues/detail.html",
        issue=issue,
        lon=lon,
        lat=lat,
        moves=moves,
        move_form=move_form,
        open_move=open_move,
        comment_form=comment_form or CommentForm(),
        photo_form=photo_form or PhotoForm(),
        events=events,
        photos=present.photo_list(issue),
        duplicates=duplicates,
        others=others,
        present=present,
        overdue=present.is_overdue(issue),
        can_contact=policy.can(current_user, "issues.view_contact", issue),
        can_comment=policy.can(current_user, "issues.comment", issue),
        can_photo=policy.can(current_user, "issues.add_photo", issue),
        map_config=map_config(),
        unit_names=units,
        default_due=(clock.today() + timedelta(days=issue.category.deadline_days)).isoformat(),
    ), status


@bp.route("/<issue_id>")
@login_required
def detail(issue_id: str):
    """One problem: map, photos, timeline and what this user may do next."""
    issue = _visible(issue_id)
    if issue_id != issue.ref:
        return redirect(url_for("issues.detail", issue_id=issue.ref))
    return _detail(issue)


@bp.route("/<issue_id>/move", methods=["POST"])
@login_required
def move(issue_id: str):
    """Make one move from the detail page (the lifecycle decides whether it may)."""
    issue = _visible(issue_id)
    form = MoveForm()
    form.unit.choices = unit_choices(issue.township_id)
    name = form.move.data
    if name not in PAGE_MOVES or not form.validate():
        form.move.errors = list(form.move.errors) + [_("请重试 (please try again)")]
        return _detail(issue, move_form=form, open_move=name, status=422)
    # before the try: a refusal is a 403, not a flashed message on a redirect
    policy.require(current_user, "issues.transition", issue)
    try:
        services.transition(
            issue,
            MOVE_TO[name],
            current_user,
            note=form.note.data,
            unit=form.unit.data or None,
            due_on=form.due_on.data,
            answer_class=form.answer_class.data or None,
            reason=form.reason.data,
            duplicate_of=(form.duplicate_of.data or "").strip() or None,
        )
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        _put_errors(form, exc.errors)
        return _detail(issue, move_form=form, open_move=name, status=422)
    except Forbidden:
        db.session.rollback()
        raise  # a move this role may not make is a 403, as in the API
    except FieldwatchError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("issues.detail", issue_id=issue.ref))
    flash(_("已%(move)s。", move=present.MOVE_LABELS[name]), "success")
    return redirect(url_for("issues.detail", issue_id=issue.ref))


@bp.route("/<issue_id>/comment", methods=["POST"])
@login_required
def comment(issue_id: str):
    """Add a progress note or a remark to the timeline."""
    issue = _visible(issue_id)
    policy.require(current_user, "issues.comment", issue)
    form = CommentForm()
    if form.validate():
        try:
            services.add_comment(issue, current_user, form.note.data, form.client_id.data or None)
            db.session.commit()
            flash(_("已添加。"), "success")
            return redirect(url_for("issues.detail", issue_id=issue.ref) + "#timeline")
        except ValidationError as exc:
            db.session.rollback()
            _put_errors(form, exc.errors)
    return _detail(issue, comment_form=form, status=422)


@bp.route("/<issue_id>/photos", methods=["POST"])
@login_required
def add_photos(issue_id: str):
    """Add photos (e.g. the unit's "after" pictures); all or none."""
    from fieldwatch.photos.services import attach_photo

    issue = _visible(issue_id)
    policy.require(current_user, "issues.add_photo", issue)
    form = PhotoForm()
    chosen = [f for f in (form.photos.data or []) if f and f.filename]
    if form.validate() and not chosen:
        form.photos.errors = [_("请选择照片")]
    elif form.validate():
        try:
            for upload in chosen:
                attach_photo(issue, upload, current_user)
            db.session.commit()
            flash(_("已添加 %(n)d 张照片。", n=len(chosen)), "success")
            return redirect(url_for("issues.detail", issue_id=issue.ref) + "#photos")
        except ValidationError as exc:
            db.session.rollback()
            _put_errors(form, exc.errors, {"photo": "photos"})
    return _detail(issue, photo_form=form, status=422)


def register_routes(app: Flask) -> None:
    app.register_blueprint(bp)
    offline.register(app)
