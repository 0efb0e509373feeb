"""`/api/v1/stations`: the register as GeoJSON; admins register and edit stations."""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from fieldwatch import clock, policy
from fieldwatch.errors_core import NotFound
from fieldwatch.extensions import db
from fieldwatch.geo import parse_bbox
from fieldwatch.models import Station
from fieldwatch.models.places import FIVE_HAVES, STATION_KINDS
from fieldwatch.stations import queries, services

blp = Blueprint("stations_api", __name__, url_prefix="/stations", description="Stations")


class StationListQuery(Schema):
    township = fields.String(metadata={"description": "township code"})
    kind = fields.String(validate=validate.OneOf(STATION_KINDS))
    tier = fields.String(validate=validate.OneOf(queries.TIERS))
    status = fields.String(load_default="all", validate=validate.OneOf(("open", "closed", "all")))
    bbox = fields.String(metadata={"description": "minlon,minlat,maxlon,maxlat"})
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 5000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class StationBody(Schema):
    """A station to register (POST) or the values to change (PATCH)."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(STATION_KINDS))
    # raw, so that parse_lonlat names the bad coordinate the same way everywhere
    lon = fields.Raw(required=True)
    lat = fields.Raw(required=True)
    village_code = fields.String(allow_none=True)
    serves = fields.List(fields.String(), allow_none=True)
    established_on = fields.Date(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    five_haves = fields.Dict(keys=fields.String(validate=validate.OneOf(FIVE_HAVES)),
                             values=fields.Boolean())  # fmt: skip
    has_venue = fields.Boolean()
    has_signage = fields.Boolean()
    has_rules = fields.Boolean()
    has_activities = fields.Boolean()
    has_results = fields.Boolean()
    convener = fields.String(allow_none=True, validate=validate.Length(max=100))
    address = fields.String(allow_none=True, validate=validate.Length(max=300))
    local_members = fields.String(allow_none=True)
    member_ids = fields.List(fields.Integer(), allow_none=True)


class StationPatch(StationBody):
    """The values of a station to change (every field optional)."""


def _values(body: dict) -> dict:
    """Fold the flat has_* flags into five_haves."""
    five = dict(body.pop("five_haves", None) or {})
    for key in FIVE_HAVES:
        if f"has_{key}" in body:
            five[key] = body.pop(f"has_{key}")
    if five:
        body["five_haves"] = five
    return body


def _feature(station_id: int, status: int = 200):
    station = db.session.get(Station, station_id)
    row = queries.station_row(station_id)
    return queries.station_feature(row, clock.today(), members=list(station.members)), status


@blp.route("")
@login_required
@blp.arguments(StationListQuery, location="query")
def list_stations(args):
    """List stations as a FeatureCollection (`links` has `next` when there is more)."""
    policy.require(current_user, "stations.view")
    filters = queries.StationFilter(
        township=args.get("township"),
        kind=args.get("kind"),
        tier=args.get("tier"),
        status=args["status"],
        bbox=parse_bbox(args.get("bbox")),
    )
    limit, offset, today = args["limit"], args["offset"], clock.today()
    rows = queries.list_stations(filters, today, limit, offset)
    links = []
    if len(rows) > limit:
        query = {k: v for k, v in request.args.items() if k != "offset"}
        href = url_for(".list_stations", _external=True, **query, offset=offset + limit)
        links.append({"rel": "next", "href": href, "type": "application/geo+json"})
    return {
        "type": "FeatureCollection",
        "features": [queries.station_feature(r, today) for r in rows[:limit]],
        "links": links,
    }


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(StationBody, location="json")
def create_station(body):
    """Register a station: 201 with its Feature (village, township and serves derived)."""
    policy.require(current_user, "stations.edit")
    values = _values(body)
    name, kind, lon, lat = (values.pop(k) for k in ("name", "kind", "lon", "lat"))
    station = services.create_station(name, kind, lon, lat, **values)
    db.session.commit()
    return _feature(station.id, 201)


@blp.route("/<int:station_id>")
@login_required
def get_station(station_id: int):
    """Return one station as a Feature (with its linked members)."""
    policy.require(current_user, "stations.view")
    if db.session.get(Station, station_id) is None:
        raise NotFound("没有这个站点 (no such station)")
    return _feature(station_id)


@blp.route("/<int:station_id>", methods=["PATCH"])
@login_required
@blp.arguments(StationPatch(partial=True), location="json")
def patch_station(body, station_id: int):
    """Change the given values of a station; moving it re-derives its village and township."""
    policy.require(current_user, "stations.edit")
    station = db.session.get(Station, station_id)
    if station is None:
        raise NotFound("没有这个站点 (no such station)")
    services.update_station(station, **_values(body))
    db.session.commit()
    return _feature(station_id)
