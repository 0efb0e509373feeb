"""`/api/v1/areas`: the places, and which village and township lie at a point."""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fieldwatch import policy
from fieldwatch.areas import queries
from fieldwatch.errors_core import NotFound
from fieldwatch.geo import parse_lonlat
from fieldwatch.models.places import AREA_LEVELS

blp = Blueprint("areas_api", __name__, url_prefix="/areas", description="Places")


class AreaListQuery(Schema):
    level = fields.String(validate=validate.OneOf(AREA_LEVELS))
    parent = fields.String(metadata={"description": "the parent's 12-digit code"})
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 5000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class PointQuery(Schema):
    # strings, so that parse_lonlat gives the same field errors as everywhere else
    lon = fields.String(required=True)
    lat = fields.String(required=True)


@blp.route("")
@login_required
@blp.arguments(AreaListQuery, location="query")
def list_areas(args):
    """List areas by code: `{items: [{code, name, level, kind, parent_code, has_boundary}], next}`."""
    policy.require(current_user, "areas.view")
    limit, offset = args["limit"], args["offset"]
    rows = queries.list_areas(args.get("level"), args.get("parent"), limit, offset)
    more = len(rows) > limit
    next_url = None
    if more:
        query = {k: v for k, v in request.args.items() if k != "offset"}
        next_url = url_for(".list_areas", _external=True, **query, offset=offset + limit)
    return {"items": [queries.area_item(r) for r in rows[:limit]], "next": next_url}


@blp.route("/at")
@login_required
@blp.arguments(PointQuery, location="query")
def area_at(args):
    """Return `{village, township}` at `lon`, `lat` (404 when the point is in no township)."""
    policy.require(current_user, "areas.view")
    lon, lat = parse_lonlat(args["lon"], args["lat"])
    village, township = queries.areas_at(lon, lat)
    if township is None:
        raise NotFound("该点不在任何乡镇(街道)内 (the point is in no township)")
    return {
        "village": queries.area_item(village) if village is not None else None,
        "township": queries.area_item(township),
    }
