"""`/api/v1/followups`: look-backs (回头看): the lists, scheduling, recording, photos."""

from __future__ import annotations

from flask import Flask, url_for
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from fieldwatch import api as api_area
from fieldwatch import policy
from fieldwatch.errors_core import Conflict, NotFound
from fieldwatch.errors_core import ValidationError as DomainValidationError
from fieldwatch.extensions import db
from fieldwatch.followups import photos, queries, services
from fieldwatch.issues.services import get_issue
from fieldwatch.models import Area, Unit, Visit
from fieldwatch.models.visits import FINDINGS, SATISFACTION

blp = Blueprint(
    "followups_api", __name__, url_prefix="/followups", description="Look-backs (回头看)"
)


class IdOrRef(fields.Field):
    """An issue's number or its ref (FW-2026-000123)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("问题编号或 ref (an issue id or ref)")
        text = str(value).strip()
        if not text or len(text) > 40:
            raise ValidationError("问题编号或 ref (an issue id or ref)")
        return text


class FollowupListQuery(Schema):
    state = fields.String(validate=validate.OneOf(queries.STATES))
    township = fields.String(metadata={"description": "a township's 12-digit code"})
    unit = fields.String(metadata={"description": "a unit's code"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


class FollowupPerson(Schema):
    id = fields.Integer()
    name = fields.String()


class FollowupItem(Schema):
    id = fields.Integer()
    issue_id = fields.Integer(allow_none=True)
    visit_id = fields.Integer(allow_none=True)
    ref = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    kind = fields.String(
        metadata={"description": "scheduled | rework | spot_check | extra | visit"}
    )
    lon = fields.Float(allow_none=True)
    lat = fields.Float(allow_none=True)
    township_code = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    due_on = fields.Date()
    days_overdue = fields.Integer()
    state = fields.String(metadata={"description": "due | overdue | done"})
    done_at = fields.DateTime(allow_none=True)
    finding = fields.String(allow_none=True)
    on_site = fields.Boolean(allow_none=True)
    distance_m = fields.Float(allow_none=True)
    satisfaction = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    issue_status = fields.String(allow_none=True)
    inspector = fields.Nested(FollowupPerson, allow_none=True)
    assignee = fields.Nested(FollowupPerson, allow_none=True)
    url = fields.String()
    photos = fields.List(
        fields.Nested(lambda: FollowupPhotoLink()),
        metadata={"description": "one look-back's photos (not in lists)"},
    )


class FollowupList(Schema):
    items = fields.List(fields.Nested(FollowupItem))
    next = fields.String(allow_none=True)


class FollowupScheduleBody(Schema):
    issue_id = IdOrRef(metadata={"type": "string", "description": "the issue's id or ref"})
    visit_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    due_on = fields.Date(required=True)
    kind = fields.String(validate=validate.OneOf(("extra", "spot_check", "visit")))
    assignee = fields.String(
        allow_none=True, metadata={"description": "the inspector's login or id"}
    )


class FollowupUpdateBody(Schema):
    assignee = fields.String(
        allow_none=True, metadata={"description": "login or id; null to unassign"}
    )
    due_on = fields.Date()


class FollowupRecordBody(Schema):
    finding = fields.String(required=True, validate=validate.OneOf(FINDINGS))
    # strings or numbers; the service gives the same field errors as everywhere else
    lon = fields.Raw(allow_none=True, metadata={"type": "number"})
    lat = fields.Raw(allow_none=True, metadata={"type": "number"})
    accuracy_m = fields.Raw(allow_none=True, metadata={"type": "number"})
    note = fields.String(allow_none=True, validate=validate.Length(max=services.MAX_NOTE))
    satisfaction = fields.String(allow_none=True, validate=validate.OneOf(SATISFACTION))
    client_id = fields.String(allow_none=True, validate=validate.Length(max=64))


def item(row) -> dict:
    """The API's shape of one look-back row (queries.followups)."""
    return {
        "id": row.id,
        "issue_id": row.issue_id,
        "visit_id": row.visit_id,
        "ref": row.ref,
        "title": row.title,
        "kind": row.kind,
        "lon": row.lon,
        "lat": row.lat,
        "township_code": row.township_code,
        "unit": row.unit,
        "due_on": row.due_on,
        "days_overdue": row.days_overdue,
        "state": row.state,
        "done_at": row.done_at,
        "finding": row.finding,
        "on_site": row.on_site,
        "distance_m": row.distance_m,
        "satisfaction": row.satisfaction,
        "note": row.note,
        "issue_status": row.issue_status,
        "inspector": {"id": row.inspector_id, "name": row.inspector_name}
        if row.inspector_id
        else None,
        "assignee": {"id": row.assignee_id, "name": row.assignee_name} if row.assignee_id else None,
        "url": url_for("followups.record", followup_id=row.id, _external=True),
    }


def _code_id(model, code: str | None, field: str) -> int | None:
    if not code:
        return None
    query = select(model.id).where(model.code == code)
    if model is Area:
        query = query.where(Area.level == "township")
    found = db.session.scalar(query)
    if found is None:
        raise DomainValidationError(f"未知编码 {code} (unknown code)", {field: ["没有这个编码"]})
    return found


def scope_from(args) -> queries.Scope:
    """The reader's scope narrowed by the `township` and `unit` filters."""
    return queries.Scope.of(
        current_user,
        _code_id(Area, args.get("township"), "township"),
        _code_id(Unit, args.get("unit"), "unit"),
    )


def _viewable(followup_id) -> dict:
    followup = services.get_followup(followup_id)
    if not policy.can(current_user, "followups.view", followup):
        raise NotFound(f"没有这个回头看: {followup_id} (no such look-back)")
    return _one(followup)


def _one(followup) -> dict:
    """One look-back with its photos."""
    body = item(queries.followup_row(followup.id))
    body["photos"] = [
        {"id": p["id"], "url": p["url"], "thumb_url": p["thumb_url"]}
        for p in photos.listed(followup)
    ]
    return body


@blp.route("")
@login_required
@blp.arguments(FollowupListQuery, location="query")
@blp.response(200, FollowupList)
def list_followups(args):
    """List look-backs in your scope: `state=due|overdue|done`, `township=`, `unit=`."""
    policy.require(current_user, "followups.view")
    limit, offset = args["limit"], args["offset"]
    rows, more = queries.followups(scope_from(args), args.get("state"), limit, offset)
    next_url = api_area.next_page_url(".list_followups", more, offset, limit)
    return {"items": [item(r) for r in rows], "next": next_url}


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(FollowupScheduleBody, location="json")
@blp.response(201, FollowupItem)
def schedule(body):
    """Add an extra look-back or spot check `{issue_id, due_on}` (supervisors, admin)."""
    policy.require(current_user, "followups.schedule")
    issue = visit = None
    if body.get("issue_id") is not None:
        issue = get_issue(body["issue_id"])
        if not policy.can(current_user, "issues.view", issue):
            raise NotFound(f"没有这个问题: {body['issue_id']} (no such issue)")
    elif body.get("visit_id") is not None:
        visit = db.session.get(Visit, body["visit_id"])
        if visit is None or not policy.can(current_user, "visits.view", visit):
            raise NotFound("没有这个走访 (no such visit)")
    else:
        raise DomainValidationError(
            "请指定问题 (issue_id required)", {"issue_id": ["请指定问题 (required)"]}
        )
    followup = services.schedule_followup(
        current_user,
        issue=issue,
        visit=visit,
        due_on=body["due_on"],
        kind=body.get("kind"),
        assignee=body.get("assignee"),
    )
    db.session.commit()
    return _one(followup)


@blp.route("/<int:followup_id>")
@login_required
@blp.response(200, FollowupItem)
def get_one(followup_id):
    """Return one look-back."""
    return _viewable(followup_id)


@blp.route("/<int:followup_id>", methods=["PATCH"])
@login_required
@blp.arguments(FollowupUpdateBody, location="json")
@blp.response(200, FollowupItem)
def update(body, followup_id):
    """Assign the inspector (`assignee`: login or id, null to unassign) or move `due_on`."""
    followup = services.get_followup(followup_id)
    if not policy.can(current_user, "followups.view", followup):
        raise NotFound(f"没有这个回头看: {followup_id} (no such look-back)")
    changes = {k: body[k] for k in ("assignee", "due_on") if k in body}
    services.update_followup(followup, current_user, **changes)
    db.session.commit()
    return _one(followup)


@blp.route("/<int:followup_id>/record", methods=["POST"])
@login_required
@blp.arguments(FollowupRecordBody, location="json")
@blp.response(200, FollowupItem)
def record(body, followup_id):
    """Record a look-back: `{finding, lon, lat, accuracy_m, note, satisfaction, client_id}`.

    Answers the look-back with `distance_m` and `on_site`; 409 when it is already
    recorded or its problem is not awaiting one; the same `client_id` from the
    same user answers 200 with the original.
    """
    followup = services.get_followup(followup_id)
    if not policy.can(current_user, "followups.view", followup):
        raise NotFound(f"没有这个回头看: {followup_id} (no such look-back)")
    followup, _ = services.record_followup(
        followup,
        current_user,
        body["finding"],
        body.get("lon"),
        body.get("lat"),
        body.get("accuracy_m"),
        body.get("note"),
        body.get("satisfaction"),
        body.get("client_id"),
    )
    db.session.commit()
    return _one(followup)


class FollowupPhotoFiles(Schema):
    photo = Upload(required=True, metadata={"description": "JPEG, PNG or WebP"})


class FollowupPhotoForm(Schema):
    client_id = fields.String(allow_none=True, validate=validate.Length(max=64))


class FollowupPhotoLink(Schema):
    id = fields.Integer()
    url = fields.String(allow_none=True)
    thumb_url = fields.String(allow_none=True)


class FollowupPhotoItem(Schema):
    id = fields.Integer()
    followup_id = fields.Integer()
    url = fields.String(allow_none=True)
    thumb_url = fields.String(allow_none=True)


@blp.route("/<int:followup_id>/photos", methods=["POST"])
@login_required
@blp.arguments(FollowupPhotoForm, location="form")
@blp.arguments(FollowupPhotoFiles, location="files")
@blp.response(201, FollowupPhotoItem)
def add_photo(form, files, followup_id):
    """Add a photo to a recorded look-back (multipart `photo`, optional `client_id`).

    Only its inspector adds photos, after recording it (the offline queue sends
    the record first); the same `client_id` again answers 200 with the original.
    """
    followup = services.get_followup(followup_id)
    if not policy.can(current_user, "followups.view", followup):
        raise NotFound(f"没有这个回头看: {followup_id} (no such look-back)")
    policy.require(current_user, "followups.record", followup)
    if followup.done_at is None:
        raise Conflict("请先记录回头看，再补充照片 (record the look-back first)")
    if followup.inspector_id != current_user.id:
        raise Conflict("只有回头看人可以补充照片 (only the inspector adds photos)")
    photo, created = photos.attach(followup, files["photo"], current_user, form.get("client_id"))
    db.session.commit()
    body = {"id": photo.id, "followup_id": followup.id, **photos.urls(photo)}
    return body, 201 if created else 200


def register_routes(app: Flask) -> None:
    api_area.register_blueprint(app, blp)
