"""`/api/v1/places/history`: everything that happened at a place, oldest first."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldwatch import api as api_area
from fieldwatch import policy
from fieldwatch.geo import parse_lonlat
from fieldwatch.places import queries
from fieldwatch.places.timeline import place_history

blp = Blueprint("places_api", __name__, url_prefix="/places", description="A place's history")


class PlaceHistoryQuery(Schema):
    # strings, so that parse_lonlat gives the same field errors as everywhere else
    lon = fields.String(required=True)
    lat = fields.String(required=True)
    radius = fields.Float(
        load_default=queries.DEFAULT_RADIUS_M,
        validate=validate.Range(1, queries.MAX_RADIUS_M),
        metadata={"description": "metres, 1–1000 (default 100)"},
    )
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


class PlacePhotoLink(Schema):
    id = fields.Integer()
    url = fields.String(allow_none=True)
    thumb_url = fields.String(allow_none=True)


class PlaceHistoryItem(Schema):
    type = fields.String(metadata={"description": "issue | visit | followup"})
    id = fields.Integer()
    at = fields.DateTime(allow_none=True)
    summary = fields.String()
    ref = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    finding = fields.String(allow_none=True)
    on_site = fields.Boolean(allow_none=True)
    kind = fields.String(allow_none=True)
    issue_id = fields.Integer(allow_none=True)
    lon = fields.Float(allow_none=True)
    lat = fields.Float(allow_none=True)
    distance_m = fields.Float(allow_none=True)
    url = fields.String(allow_none=True)
    photos = fields.List(fields.Nested(PlacePhotoLink))


class PlaceHistoryList(Schema):
    items = fields.List(fields.Nested(PlaceHistoryItem))
    next = fields.String(allow_none=True)


@blp.route("/history")
@login_required
@blp.arguments(PlaceHistoryQuery, location="query")
@blp.response(200, PlaceHistoryList)
def history(args):
    """List the problems, held visits and look-backs within `radius` m of a point, oldest first."""
    policy.require(current_user, "places.view")
    lon, lat = parse_lonlat(args["lon"], args["lat"])
    limit, offset = args["limit"], args["offset"]
    place = place_history(current_user, lon, lat, args["radius"], limit, offset)
    return {
        "items": place.items,
        "next": api_area.next_page_url(".history", place.more, offset, limit),
    }


def register_routes(app: Flask) -> None:
    api_area.register_blueprint(app, blp)
