"""`/api/v1/visits` (DESIGN.md): plan, read, reorder, hold and cancel visits; and the
planner's helpers: candidate problems in view, batches, and a route for any stops."""

from __future__ import annotations

from datetime import date

from flask import request, url_for
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError
from sqlalchemy import select
from webargs.fields import DelimitedList

from fieldwatch import policy
from fieldwatch.errors_core import NotFound, ValidationError
from fieldwatch.extensions import db
from fieldwatch.geo import parse_bbox, parse_lonlat
from fieldwatch.models import Area
from fieldwatch.models.issues import PRIORITIES, STATUSES
from fieldwatch.models.visits import VISIT_FORMS, VISIT_STATUSES
from fieldwatch.visits import queries, routing, services
from fieldwatch.visits.present import visit_item, visit_items

blp = Blueprint("visits_api", __name__, url_prefix="/visits", description="Visits (现场协商)")

OPEN_STATUSES = [s for s in STATUSES if s not in ("closed", "rejected", "duplicate")]


def refuse_nul():
    """Refuse text with NUL characters (PostgreSQL cannot store them) before it reaches SQL."""
    nul = any("\x00" in v for v in request.args.values())
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        nul = nul or any("\x00" in v for v in request.form.values())
    elif request.content_length:
        body = request.get_data(cache=True)
        nul = nul or b"\x00" in body or b"\\u0000" in body
    if nul:
        raise ValidationError(
            "请求含有空字符 (NUL characters are not allowed)", {"_schema": ["NUL"]}
        )


blp.before_request(refuse_nul)


# --- schemas --------------------------------------------------------------------------
class VisitPointSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    lon = fields.Float(required=True, allow_nan=False)
    lat = fields.Float(required=True, allow_nan=False)


class VisitStopSchema(Schema):
    """A stop: a problem (`issue_id`) or a free point (`lon`, `lat`, `label`)."""

    class Meta:
        unknown = EXCLUDE

    issue_id = fields.Raw(allow_none=True, metadata={"description": "issue id or ref"})
    lon = fields.Float(allow_nan=False)
    lat = fields.Float(allow_nan=False)
    label = fields.String(validate=validate.Length(max=200))


class VisitParticipantsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    members = fields.List(fields.Integer(strict=True), metadata={"description": "user ids"})
    units = fields.List(fields.String(validate=validate.Length(max=40)))
    residents = fields.Integer(strict=True, validate=validate.Range(0, 100_000))


#: visit fields a plan or an edit cannot set, and what sets them
NOT_SETTABLE = {
    "status": "hold or cancel",
    "held_on": "hold",
    "attendance": "hold",
    "opinions": "hold",
    "actions": "hold",
    "cancel_reason": "cancel",
    "township": "the stops and the station",
    "township_id": "the stops and the station",
    "township_code": "the stops and the station",
}


class VisitWriteSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    title = fields.String(validate=validate.Length(max=400))
    form = fields.String(validate=validate.OneOf(VISIT_FORMS))
    planned_for = fields.Date()
    issue_ids = fields.List(fields.Raw(), validate=validate.Length(max=200))
    stops = fields.List(fields.Nested(VisitStopSchema), validate=validate.Length(max=200))
    start = fields.Nested(VisitPointSchema, allow_none=True)
    start_label = fields.String(allow_none=True, validate=validate.Length(max=200))
    station_id = fields.Integer(allow_none=True, strict=True)
    leader_id = fields.Integer(allow_none=True, strict=True)
    participants = fields.Nested(VisitParticipantsSchema)
    optimise = fields.Boolean(metadata={"description": "save the suggested order instead"})

    @validates_schema(pass_original=True)
    def _not_settable(self, data, original, **kwargs):
        """Refuse what only hold and cancel set, and what the server derives (422 per field)."""
        if isinstance(original, dict):
            found = {
                name: [f"不能直接设定 {name} (set by {how}, not by this request)"]
                for name, how in NOT_SETTABLE.items()
                if name in original
            }
            if found:
                raise SchemaError(found)


class VisitCreateSchema(VisitWriteSchema):
    title = fields.String(required=True, validate=validate.Length(max=400))
    planned_for = fields.Date(required=True)


class VisitPatchSchema(VisitWriteSchema):
    stop_order = fields.List(
        fields.Integer(strict=True),
        metadata={"description": "the stops' issue ids in the new order, or positions 0…n-1"},
    )


class VisitAttendanceSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    members = fields.Integer(strict=True, validate=validate.Range(0, 100_000))
    officials = fields.Integer(strict=True, validate=validate.Range(0, 100_000))
    residents = fields.Integer(strict=True, validate=validate.Range(0, 100_000))


class VisitActionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    issue_id = fields.Raw(required=True, metadata={"description": "issue id or ref"})
    to = fields.String(required=True, validate=validate.Length(max=20))
    unit = fields.String(allow_none=True, validate=validate.Length(max=40))
    due_on = fields.Date(allow_none=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=5000))
    answer_class = fields.String(allow_none=True, validate=validate.OneOf(("A", "B", "C")))
    reason = fields.String(allow_none=True, validate=validate.Length(max=5000))
    duplicate_of = fields.Raw(allow_none=True)


class VisitHoldSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    held_on = fields.Date(allow_none=True, metadata={"description": "default today"})
    attendance = fields.Nested(VisitAttendanceSchema, load_default=dict)
    opinions = fields.String(allow_none=True, validate=validate.Length(max=10_000))
    actions = fields.List(fields.Nested(VisitActionSchema), load_default=list)


class VisitCancelSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = fields.String(required=True, validate=validate.Length(max=10_000))


class VisitListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.OneOf(VISIT_STATUSES))
    form = fields.String(validate=validate.OneOf(VISIT_FORMS))
    township = fields.String(validate=validate.Length(max=12))
    month = fields.String(
        validate=validate.Regexp(r"^(19|20)\d\d-(0[1-9]|1[0-2])$"),
        metadata={"description": "YYYY-MM"},
    )
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    station = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10**6))


class VisitCandidateQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    bbox = fields.String(metadata={"description": "minlon,minlat,maxlon,maxlat"})
    township = fields.String(validate=validate.Length(max=12))
    within = fields.String(
        validate=validate.Length(max=60_000),
        metadata={"description": "a drawn area: GeoJSON Polygon/MultiPolygon"},
    )
    status = DelimitedList(fields.String(validate=validate.OneOf(OPEN_STATUSES)))
    category = DelimitedList(fields.String(validate=validate.Length(max=40)))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    overdue_lookback = fields.Boolean()
    reopened = fields.Boolean()
    overdue = fields.Boolean()
    limit = fields.Integer(load_default=queries.CANDIDATE_LIMIT, validate=validate.Range(1, 2000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10**6))


class VisitBatchQuery(VisitCandidateQuery):
    eps_m = fields.Float(
        load_default=800,
        validate=validate.Range(20, 20_000),
        metadata={"description": "metres between neighbours in a batch"},
    )


class VisitRouteRequest(Schema):
    class Meta:
        unknown = EXCLUDE

    start = fields.Nested(VisitPointSchema, allow_none=True)
    stops = fields.List(
        fields.Nested(VisitStopSchema),
        required=True,
        validate=validate.Length(max=services.MAX_STOPS),
    )
    optimise = fields.Boolean(load_default=True)


# --- helpers ---------------------------------------------------------------------------
def _township_id(code: str | None, field: str = "township") -> int | None:
    if not code:
        return None
    found = db.session.scalar(select(Area.id).where(Area.code == code, Area.level == "township"))
    if found is None:
        raise ValidationError(
            f"没有这个乡镇(街道): {code}", {field: ["未知乡镇编码 (unknown township)"]}
        )
    return found


def candidate_filter(args: dict) -> queries.CandidateFilter:
    """Build the planner's filter from query arguments (shared with the pages)."""
    return queries.CandidateFilter(
        bbox=parse_bbox(args.get("bbox")),
        township_id=_township_id(args.get("township")),
        within=queries.parse_area(args.get("within")),
        statuses=list(args.get("status") or []),
        categories=list(args.get("category") or []),
        priority=args.get("priority"),
        overdue_lookback=bool(args.get("overdue_lookback")),
        reopened=bool(args.get("reopened")),
        overdue=bool(args.get("overdue")),
        scope_township_id=current_user.township_id,
    )


def candidate_feature(row) -> dict:
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": {
            "id": row.id,
            "ref": row.ref,
            "title": row.title,
            "status": row.status,
            "priority": row.priority,
            "category": row.category,
            "category_name": row.category_name,
            "township": row.township,
            "township_code": row.township_code,
            "village": row.village,
            "address": row.address,
            "due_on": row.due_on.isoformat() if row.due_on else None,
            "overdue": bool(row.overdue),
            "lookback_overdue": bool(row.lookback_overdue),
            "reopen_count": row.reopen_count or 0,
            "photo_id": row.photo_id,
        },
    }


def _next_url(endpoint: str, offset: int, limit: int, **values) -> str:
    query = {k: v for k, v in request.args.items() if k != "offset"}
    return url_for(endpoint, _external=True, **query, offset=offset + limit, **values)


def _visit(visit_id: int, action: str):
    visit = services.get_visit(visit_id)
    if not policy.can(current_user, "visits.view", visit):
        raise NotFound(f"没有这次走访: {visit_id} (no such visit)")
    policy.require(current_user, action, visit)
    return visit


# --- visits -------------------------------------------------------------------------------
@blp.route("")
@login_required
@blp.arguments(VisitListQuery, location="query")
def list_visits(args):
    """List the visits you may see, newest first: `{items, next}`; filters as on the page."""
    policy.require(current_user, "visits.view")
    month = None
    if args.get("month"):
        year, number = args["month"].split("-")
        month = date(int(year), int(number), 1)
    filters = queries.VisitFilter(
        status=args.get("status"),
        form=args.get("form"),
        township=args.get("township"),
        month=month,
        station_id=args.get("station"),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
    )
    limit, offset = args["limit"], args["offset"]
    rows = queries.list_visits(current_user, filters, limit + 1, offset)
    next_url = _next_url(".list_visits", offset, limit) if len(rows) > limit else None
    return {"items": visit_items(rows[:limit]), "next": next_url}


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(VisitCreateSchema, location="json")
def create_visit(args):
    """Plan a visit → 201 with the visit and its `route`."""
    policy.require(current_user, "visits.plan")
    args["stops"] = args.pop("stops", None)
    visit = services.create_visit(current_user, **args)
    db.session.commit()
    response = visit_item(visit)
    return response, 201, {"Location": url_for(".get_visit", visit_id=visit.id)}


@blp.route("/<int:visit_id>")
@login_required
def get_visit(visit_id: int):
    """Return a visit with its stops, `route`, participants and outcome."""
    return visit_item(_visit(visit_id, "visits.view"))


@blp.route("/<int:visit_id>", methods=["PATCH"])
@login_required
@blp.arguments(VisitPatchSchema, location="json")
def patch_visit(args, visit_id: int):
    """Change a planned visit; `stop_order` reorders its stops (and so its route)."""
    visit = _visit(visit_id, "visits.plan")
    services.update_visit(visit, current_user, **args)
    db.session.commit()
    return visit_item(visit)


@blp.route("/<int:visit_id>/hold", methods=["POST"])
@login_required
@blp.arguments(VisitHoldSchema, location="json")
def hold_visit(args, visit_id: int):
    """Record the visit as held and apply every agreed action, all or none (422/409 naming it)."""
    visit = _visit(visit_id, "visits.hold")
    services.hold(
        visit,
        args.get("held_on"),
        args.get("attendance"),
        args.get("opinions"),
        args.get("actions"),
        current_user,
    )
    db.session.commit()
    return visit_item(visit)


@blp.route("/<int:visit_id>/cancel", methods=["POST"])
@login_required
@blp.arguments(VisitCancelSchema, location="json")
def cancel_visit(args, visit_id: int):
    """Cancel a planned visit, keeping the reason."""
    visit = _visit(visit_id, "visits.cancel")
    services.cancel(visit, args["reason"], current_user)
    db.session.commit()
    return visit_item(visit)


# --- the planner's helpers -----------------------------------------------------------------
@blp.route("/candidates")
@login_required
@blp.arguments(VisitCandidateQuery, location="query")
def candidates(args):
    """Open problems the planner may pick, for the current view: a GeoJSON FeatureCollection."""
    policy.require(current_user, "visits.plan")
    limit, offset = args["limit"], args["offset"]
    rows = queries.candidates(candidate_filter(args), limit + 1, offset)
    links = [{"rel": "self", "href": request.url, "type": "application/geo+json"}]
    if len(rows) > limit:
        links.append(
            {
                "rel": "next",
                "href": _next_url(".candidates", offset, limit),
                "type": "application/geo+json",
            }
        )
    body = {
        "type": "FeatureCollection",
        "features": [candidate_feature(r) for r in rows[:limit]],
        "links": links,
        "numberReturned": min(len(rows), limit),
    }
    return body, 200, {"Content-Type": "application/geo+json"}


@blp.route("/batches")
@login_required
@blp.arguments(VisitBatchQuery, location="query")
def batches(args):
    """Suggest batches: candidates within `eps_m` metres of each other (PostGIS DBSCAN)."""
    policy.require(current_user, "visits.plan")
    return queries.batches(candidate_filter(args), args["eps_m"])


@blp.route("/route", methods=["POST"])
@login_required
@blp.arguments(VisitRouteRequest, location="json")
def route(args):
    """Return the route for stops (problems or points) from a start, in the suggested order
    (`optimise`, the default) or as given: `{order: [indices], route}`. Saves nothing."""
    policy.require(current_user, "visits.plan")
    start = None
    if args.get("start"):
        start = parse_lonlat(args["start"]["lon"], args["start"]["lat"], "start.lon", "start.lat")
    stops = services.resolve_stops(args["stops"], current_user)
    points = [(s["lon"], s["lat"]) for s in stops]
    order = routing.suggest_order(points, start) if args["optimise"] else list(range(len(points)))
    ordered = [
        {"issue_id": stops[i]["issue"].id if stops[i]["issue"] else None, **_lonlat(stops[i])}
        for i in order
    ]
    return {"order": order, "route": routing.route(ordered, start)}


class VisitPhotoFiles(Schema):
    photo = Upload(required=True, metadata={"description": "JPEG, PNG or WebP"})


class VisitPhotoForm(Schema):
    class Meta:
        unknown = EXCLUDE

    client_id = fields.String(allow_none=True, validate=validate.Length(max=64))


@blp.route("/<int:visit_id>/photos", methods=["POST"])
@login_required
@blp.arguments(VisitPhotoForm, location="form")
@blp.arguments(VisitPhotoFiles, location="files")
def add_photo(form, files, visit_id: int):
    """Add a photo to a visit (multipart `photo`, optional `client_id`) → 201; the same
    `client_id` again → 200 with the original."""
    from fieldwatch.photos.services import attach_photo, describe

    visit = _visit(visit_id, "visits.add_photo")
    photo, created = attach_photo(visit, files["photo"], current_user, form.get("client_id"))
    db.session.commit()
    return {"visit_id": visit.id, **describe(photo)}, 201 if created else 200


def _lonlat(stop: dict) -> dict:
    return {"lon": stop["lon"], "lat": stop["lat"]}


def register_routes(app) -> None:
    from fieldwatch.api import register_blueprint

    register_blueprint(app, blp)
