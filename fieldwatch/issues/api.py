"""`/api/v1/issues`, `/api/v1/categories`, `/api/v1/units`: problems as GeoJSON (DESIGN.md).

Writes take a `client_id` (the offline queue sends one with everything): the same
user sending it again gets 200 with the original, another user 409. `POST /issues`
takes JSON, or multipart with the same fields plus photos, in one transaction: a
refused photo means nothing is created.
"""

from __future__ import annotations

import json

import marshmallow
from flask import Flask, Response, request, url_for
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from fieldwatch import api as api_area
from fieldwatch import clock, policy
from fieldwatch.api.errors import _flatten
from fieldwatch.errors_core import FieldwatchError, NotFound, ValidationError
from fieldwatch.extensions import db
from fieldwatch.geo import parse_bbox, parse_lonlat
from fieldwatch.issues import present, queries, services
from fieldwatch.models import Area, Category, Unit
from fieldwatch.models.issues import ANSWER_CLASSES, LOCATION_SOURCES, PRIORITIES, STATUSES

blp = Blueprint("issues_api", __name__, url_prefix="/issues", description="Problems (issues)")
lists = Blueprint("lists_api", __name__, url_prefix="", description="Categories and units")

MAX_RADIUS_M = 2000
DEFAULT_RADIUS_M = 250
PHOTO_FIELDS = ("photo", "photos")


# --- schemas ----------------------------------------------------------------------
class Text(fields.String):
    """A string without NUL characters (PostgreSQL text cannot hold them)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise marshmallow.ValidationError("不能包含空字符 (no NUL characters)")
        return text


class IssueFeature(Schema):
    type = Text()
    id = fields.Integer()
    geometry = fields.Dict()
    properties = fields.Dict()


class IssueCollection(Schema):
    type = Text()
    features = fields.List(fields.Dict())
    links = fields.List(fields.Dict())
    numberMatched = fields.Integer()  # noqa: N815  (OGC's name)
    numberReturned = fields.Integer()  # noqa: N815


class IssueNearbyCollection(IssueCollection):
    radius_m = fields.Float()


class IssueListQuery(Schema):
    bbox = Text(metadata={"description": "minlon,minlat,maxlon,maxlat"})
    status = Text(metadata={"description": "one status or several, comma-separated"})
    category = Text(metadata={"description": "category code"})
    township = Text(metadata={"description": "township code"})
    unit = Text(metadata={"description": "unit code"})
    overdue = fields.Boolean(load_default=False)
    q = Text(metadata={"description": "words in the title or the ref"})
    properties = Text(
        metadata={
            "description": "comma-separated names of the properties to return (default: all);"
            " a map that draws markers asks only for what it draws"
        }
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class IssueBody(Schema):
    """A new problem (JSON, or multipart form fields with the photos beside them)."""

    class Meta:
        unknown = EXCLUDE

    title = Text(required=True, error_messages={"required": "请填写标题 (title required)"})
    category = Text(required=True, error_messages={"required": "请选择类别 (category required)"})
    # raw, so that parse_lonlat names the bad coordinate the same way everywhere
    lon = fields.Raw(required=True, error_messages={"required": "请定位或在地图上选点 (required)"})
    lat = fields.Raw(required=True, error_messages={"required": "请定位或在地图上选点 (required)"})
    accuracy_m = fields.Raw(allow_none=True)
    location_source = Text(load_default="manual", validate=validate.OneOf(LOCATION_SOURCES))
    observed_at = fields.AwareDateTime(
        allow_none=True,
        error_messages={"invalid": "需要 ISO 8601 时间 (ISO 8601 time with offset)"},
    )
    description = Text(allow_none=True)
    priority = Text(load_default="normal", validate=validate.OneOf(PRIORITIES))
    address = Text(allow_none=True, validate=validate.Length(max=300))
    client_id = Text(allow_none=True)


class IssueMultipart(IssueBody):
    photos = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}),
        metadata={"description": "photos (also accepted as `photo`)"},
    )


class IssuePhotoForm(Schema):
    class Meta:
        unknown = EXCLUDE

    client_id = Text(allow_none=True)


class IssuePhotoFiles(Schema):
    class Meta:
        unknown = EXCLUDE

    photo = fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary"},
        error_messages={"required": "请选择照片 (photo required)"},
    )


class IssuePhotoItem(Schema):
    id = fields.Integer()
    issue_id = fields.Integer()
    url = Text()
    thumb_url = Text()
    content_type = Text()
    size = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()
    taken_at = Text(allow_none=True)
    exif_lon = fields.Float(allow_none=True)
    exif_lat = fields.Float(allow_none=True)


class IssueCommentBody(Schema):
    class Meta:
        unknown = EXCLUDE

    note = Text(required=True, error_messages={"required": "请填写内容 (note required)"})
    client_id = Text(allow_none=True)


class IssueEventItem(Schema):
    id = fields.Integer()
    issue_id = fields.Integer()
    kind = Text()
    note = Text(allow_none=True)
    at = Text()
    client_id = Text(allow_none=True)


class IssueNearbyQuery(Schema):
    lon = fields.Raw(required=True)
    lat = fields.Raw(required=True)
    category = Text(metadata={"description": "category code: its duplicate radius"})
    radius = fields.Float(
        validate=validate.Range(
            min=1, max=MAX_RADIUS_M, error=f"1–{MAX_RADIUS_M} 米 (metres, at most {MAX_RADIUS_M})"
        ),
        metadata={
            "description": f"metres; default the category's, else 250; at most {MAX_RADIUS_M}"
        },
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 50))


class IssueTransitionBody(Schema):
    class Meta:
        unknown = EXCLUDE

    to = Text(required=True, validate=validate.OneOf(STATUSES))
    note = Text(allow_none=True)
    unit = Text(allow_none=True)
    due_on = Text(allow_none=True, metadata={"format": "date"})
    answer_class = Text(allow_none=True, validate=validate.OneOf(ANSWER_CLASSES))
    reason = Text(allow_none=True)
    duplicate_of = fields.Raw(allow_none=True, metadata={"description": "issue id or ref"})


class CodeListQuery(Schema):
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class CodeListPage(Schema):
    items = fields.List(fields.Dict())
    next = Text(allow_none=True)


# --- helpers ------------------------------------------------------------------------
def visible_issue(ident) -> object:
    """Return the issue if the signed-in user may see it; otherwise 404 (never say it exists)."""
    issue = services.get_issue(ident)
    if not policy.can(current_user, "issues.view", issue):
        raise NotFound(f"没有这个问题: {ident} (no such issue)")
    return issue


def _scope_kwargs(user) -> dict:
    return policy.issue_rows(user)


#: what a report cannot set, whoever sends it: the lifecycle (status, unit, due date,
#: answer class, duplicate), the server (ref, source, reporter = the signed-in user) and
#: the point (village and township are found from lon/lat, never taken from the client)
NOT_ON_REPORT = (
    "status",
    "unit",
    "due_on",
    "answer_class",
    "duplicate_of",
    "ref",
    "source",
    "reporter",
    "reporter_id",
    "township",
    "township_code",
    "village_code",
    "area_id",
)
#: priority "urgent" is the office's triage (leaders, supervisors, admin)
PRIORITY_SETTERS = policy.STAFF


def _refuse_fields(data: dict, user) -> None:
    """422 with a field error for each value this user may not set on a report."""
    errors = {
        name: ["不能在上报时设定，由办理流程决定 (set by the lifecycle, not by a report)"]
        for name in NOT_ON_REPORT
        if name in data
    }
    if data.get("priority") not in (None, "", "normal") and user.role not in PRIORITY_SETTERS:
        errors["priority"] = [
            "只有领导、督办和办公室可以设定紧急程度 (only staff set the priority)"
        ]
    if errors:
        raise ValidationError("这些内容不能由您设定 (fields you may not set)", errors)


def _load_body(schema: Schema) -> dict:
    """Parse a JSON or form body: 400 if unparseable, 422 with field errors if invalid."""
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data = request.form.to_dict()
    else:
        data = request.get_json(silent=True)
        if data is None:
            raise _BadRequest("请求体不是有效的 JSON (body is not valid JSON)")
        if not isinstance(data, dict):
            raise ValidationError("需要一个 JSON 对象 (a JSON object)", {"_schema": ["需要对象"]})
    if isinstance(schema, IssueBody):
        _refuse_fields(data, current_user)
    try:
        return schema.load(data)
    except marshmallow.ValidationError as exc:
        raise ValidationError(
            "上报内容有误 (invalid values)", _flatten({"json": exc.messages})
        ) from None


class _BadRequest(FieldwatchError):
    status = 400
    code = "bad_request"


def _uploads() -> list:
    found = []
    for name in PHOTO_FIELDS:
        found.extend(f for f in request.files.getlist(name) if f and f.filename)
    return found


def _code_id(model, code: str | None, field: str, **where) -> int | None:
    if not code:
        return None
    query = select(model.id).where(model.code == code)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    found = db.session.scalar(query)
    if found is None:
        raise ValidationError(f"未知的{field} {code!r}", {field: [f"没有 {code!r} (unknown code)"]})
    return found


def _page_links(endpoint: str, args: dict, more: bool, limit: int, offset: int, **view) -> list:
    def href(at: int) -> str:
        params = {k: v for k, v in args.items() if v not in (None, "", False)}
        params.update(limit=limit, offset=at)
        return url_for(endpoint, _external=True, **view, **params)

    links = [{"rel": "self", "type": "application/geo+json", "href": href(offset)}]
    if more:
        links.append({"rel": "next", "type": "application/geo+json", "href": href(offset + limit)})
    if offset > 0:
        links.append(
            {"rel": "prev", "type": "application/geo+json", "href": href(max(offset - limit, 0))}
        )
    return links


# --- reads --------------------------------------------------------------------------
@blp.route("")
@login_required
@blp.arguments(IssueListQuery, location="query")
@blp.response(200, IssueCollection)
def list_issues(args):
    """List the issues the user may see, newest first, as a FeatureCollection.

    PostGIS writes the features (spliced into the answer unparsed); `numberMatched`
    comes when it is cheap to know (see fieldwatch.counting), `next` whenever there
    is more.
    """
    from fieldwatch import counting
    from fieldwatch.models import Issue

    policy.require(current_user, "issues.view")
    statuses = None
    if args.get("status"):
        statuses = [s.strip() for s in args["status"].split(",") if s.strip()]
        unknown = [s for s in statuses if s not in STATUSES]
        if unknown:
            raise ValidationError("未知状态", {"status": [f"可选: {', '.join(STATUSES)}"]})
    today, limit, offset = clock.today(), args["limit"], args["offset"]
    conditions = queries.list_conditions(
        _scope_kwargs(current_user),
        statuses=statuses,
        category_id=_code_id(Category, args.get("category"), "category"),
        township_id=_code_id(Area, args.get("township"), "township", level="township"),
        unit_id=_code_id(Unit, args.get("unit"), "unit"),
        overdue=args["overdue"],
        bbox=parse_bbox(args.get("bbox")),
        today=today,
        q=args.get("q"),
    )
    contacts = policy.can(current_user, "issues.view_contact")
    names = _property_names(args.get("properties"), contacts)
    features = queries.issue_features(
        conditions,
        limit=limit + 1,  # one more tells whether there is a next page
        offset=offset,
        today=today,
        contacts=contacts,
        names=names,
        urls={
            "detail": url_for("issues.detail", issue_id="__ref__").replace("__ref__", "{ref}"),
            "thumb": url_for("photos.thumb", photo_id=0).replace("/0/", "/{photo}/"),
        },
    )
    more = len(features) > limit
    features = features[:limit]
    if not more and (features or offset == 0):
        matched = offset + len(features)  # the last page: no need to count
    elif offset == 0:
        matched = counting.count_matched(select(Issue.id).where(*conditions), "issues")
    else:
        matched = None
    head = {
        "type": "FeatureCollection",
        "links": _page_links("issues_api.list_issues", dict(args), more, limit, offset),
        "numberReturned": len(features),
    }
    if matched is not None:
        head["numberMatched"] = matched
    body = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    body += ',"features":[' + ",".join(features) + "]}"
    return Response(body, mimetype="application/json")


def _property_names(text: str | None, contacts: bool) -> list[str] | None:
    """The properties a list asks for (`properties=a,b`), checked; None for all of them."""
    if not text:
        return None
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    known = [*queries.LIST_PROPERTIES, *(queries.CONTACT_PROPERTIES if contacts else ())]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValidationError(
            "未知属性 (unknown properties)",
            {"properties": [f"未知: {', '.join(unknown)}; 可选: {', '.join(known)}"]},
        )
    return names


@blp.route("/nearby")
@login_required
@blp.arguments(IssueNearbyQuery, location="query")
@blp.response(200, IssueNearbyCollection)
def nearby(args):
    """Open issues near a point, nearest first, each with distance_m (the duplicate check)."""
    policy.require(current_user, "issues.view")
    lon, lat = parse_lonlat(args["lon"], args["lat"])
    category = None
    if args.get("category"):
        category = db.session.scalar(
            select(Category).where(Category.code == args["category"], Category.active)
        )
        if category is None:
            raise ValidationError("未知类别", {"category": [f"没有类别 {args['category']!r}"]})
    radius = args.get("radius")
    if radius is None:
        radius = category.duplicate_radius_m if category is not None else DEFAULT_RADIUS_M
    rows = queries.issues_near(
        lon,
        lat,
        radius,
        category.id if category is not None else None,
        limit=args["limit"],
        **_scope_kwargs(current_user),
    )
    return {
        "type": "FeatureCollection",
        "features": [present.near_feature(r) for r in rows],
        "links": [],
        "numberReturned": len(rows),
        "radius_m": radius,
    }


@blp.route("/<ident>")
@login_required
@blp.response(200, IssueFeature)
def get_issue(ident):
    """One issue (by id or ref) with its photos and timeline."""
    issue = visible_issue(ident)
    body = present.feature(issue, current_user)
    body["properties"]["events"] = [
        present.event_item(e, current_user, issue) for e in issue.events
    ]
    body["properties"]["next_moves"] = services.next_moves(issue, current_user)
    return body


# --- writes -------------------------------------------------------------------------
def _attach_all(issue, uploads) -> None:
    from fieldwatch.photos.services import attach_photo

    for index, upload in enumerate(uploads, start=1):
        try:
            attach_photo(issue, upload, current_user)
        except ValidationError as exc:
            name = upload.filename or f"#{index}"
            messages = [f"{name}: {m}" for m in exc.errors.get("photo", [exc.message])]
            raise ValidationError(f"{name}: {exc.message}", {"photos": messages}) from None


@blp.route("", methods=["POST"])
@login_required
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": IssueBody},
            "multipart/form-data": {"schema": IssueMultipart},
        },
    }
)
@blp.response(201, IssueFeature)
@blp.alt_response(200, schema=IssueFeature, description="the same client_id again: the original")
def create_issue():
    """Report a problem (JSON, or multipart with photos); → the Feature with possible duplicates."""
    policy.require(current_user, "issues.report")
    data = _load_body(IssueBody())
    uploads = _uploads()
    issue, created = services.report_issue(current_user, source="field", **data)
    if created and uploads:
        _attach_all(issue, uploads)
    elif created:
        set_committed_value(issue, "photos", [])  # a new problem without photos: no query
    elif not policy.can(current_user, "issues.view", issue):
        raise NotFound("没有这个问题 (no such issue)")
    # answer from what this transaction holds (after the commit every attribute would be
    # read again from the database)
    body = present.feature(issue, current_user)
    rows = queries.possible_duplicates(issue, 5, **_scope_kwargs(current_user))
    body["properties"]["possible_duplicates"] = [present.near_item(r) for r in rows]
    db.session.commit()
    return body, 201 if created else 200


@blp.route("/<ident>/photos", methods=["POST"])
@login_required
@blp.arguments(IssuePhotoForm, location="form")
@blp.arguments(IssuePhotoFiles, location="files")
@blp.response(201, IssuePhotoItem)
@blp.alt_response(200, schema=IssuePhotoItem, description="the same client_id again: the original")
def add_photo(form, files, ident):
    """Add a photo to an issue (multipart `photo`, optional `client_id`)."""
    from fieldwatch.photos.services import attach_photo, describe

    issue = visible_issue(ident)
    policy.require(current_user, "issues.add_photo", issue)
    photo, created = attach_photo(issue, files["photo"], current_user, form.get("client_id"))
    body = {"issue_id": issue.id, **describe(photo)}
    db.session.commit()
    return body, 201 if created else 200


@blp.route("/<ident>/comments", methods=["POST"])
@login_required
@blp.arguments(IssueCommentBody, location="json")
@blp.response(201, IssueEventItem)
@blp.alt_response(200, schema=IssueEventItem, description="the same client_id again: the original")
def add_comment(body, ident):
    """Add a comment (a progress note) to an issue's timeline."""
    issue = visible_issue(ident)
    policy.require(current_user, "issues.comment", issue)
    event, created = services.add_comment(issue, current_user, body["note"], body.get("client_id"))
    item = {
        "id": event.id,
        "issue_id": issue.id,
        "kind": event.kind,
        "note": event.note,
        "at": event.created_at.isoformat(),
        "client_id": event.client_id,
    }
    db.session.commit()
    return item, 201 if created else 200


@blp.route("/<ident>/transitions", methods=["POST"])
@login_required
@blp.arguments(IssueTransitionBody, location="json")
@blp.response(200, IssueFeature)
def move(body, ident):
    """Move an issue (DESIGN.md's table): 409 not from this status, 403 not your role, 422 missing."""
    issue = visible_issue(ident)
    policy.require(current_user, "issues.transition", issue)
    services.transition(
        issue,
        body["to"],
        current_user,
        note=body.get("note"),
        unit=body.get("unit"),
        due_on=body.get("due_on"),
        answer_class=body.get("answer_class"),
        reason=body.get("reason"),
        duplicate_of=body.get("duplicate_of"),
    )
    body = present.feature(issue, current_user)
    body["properties"]["next_moves"] = services.next_moves(issue, current_user)
    db.session.commit()
    return body


# --- categories and units -----------------------------------------------------------
@lists.route("/categories")
@login_required
@lists.arguments(CodeListQuery, location="query")
@lists.response(200, CodeListPage)
def categories(args):
    """The active categories with their deadline, look-back days and duplicate radius."""
    policy.require(current_user, "lists.view")
    rows = db.session.scalars(select(Category).where(Category.active).order_by(Category.id)).all()
    page = rows[args["offset"] : args["offset"] + args["limit"]]
    nxt = None
    if args["offset"] + args["limit"] < len(rows):
        nxt = url_for(
            "lists_api.categories",
            limit=args["limit"],
            offset=args["offset"] + args["limit"],
            _external=True,
        )
    return {
        "items": [
            {
                "code": c.code,
                "name": c.name,
                "name_en": c.name_en,
                "deadline_days": c.deadline_days,
                "lookback_days": c.lookback_days,
                "duplicate_radius_m": c.duplicate_radius_m,
            }
            for c in page
        ],
        "next": nxt,
    }


@lists.route("/units")
@login_required
@lists.arguments(CodeListQuery, location="query")
@lists.response(200, CodeListPage)
def units(args):
    """The active responsible units (county bureaux and township offices)."""
    policy.require(current_user, "lists.view")
    rows = db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.id)).all()
    page = rows[args["offset"] : args["offset"] + args["limit"]]
    nxt = None
    if args["offset"] + args["limit"] < len(rows):
        nxt = url_for(
            "lists_api.units",
            limit=args["limit"],
            offset=args["offset"] + args["limit"],
            _external=True,
        )
    return {
        "items": [
            {
                "code": u.code,
                "name": u.name,
                "name_en": u.name_en,
                "township_code": u.township.code if u.township else None,
            }
            for u in page
        ],
        "next": nxt,
    }


def register_routes(app: Flask) -> None:
    api_area.register_blueprint(app, blp)
    api_area.register_blueprint(app, lists)
