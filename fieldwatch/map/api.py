"""`/api/v1/map`: the main map's live layers for the current view, and its search box.

`GET /api/v1/map/layers/<layer>?bbox=&zoom=` answers a GeoJSON FeatureCollection
(PostGIS writes the features; we only frame them) with `links`, the thinning
`mode` (`township` counts, `grid` clusters, `points`, `all`, `hidden`) and
`truncated`. `GET /api/v1/map/search?q=` finds places, stations and problems.
"""

from __future__ import annotations

import hashlib
import json
import re

from flask import Response, current_app, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from fieldwatch import clock, policy
from fieldwatch.errors_core import NotFound
from fieldwatch.geo import parse_bbox
from fieldwatch.map import queries

blp = Blueprint("map_api", __name__, url_prefix="/map", description="Map data for the current view")

#: printable text only (a NUL byte cannot even reach PostgreSQL)
_PRINTABLE = validate.Regexp(r"^[^\x00-\x1f\x7f]*$", error="不能含控制字符 (no control characters)")


class ViewQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    bbox = fields.String(
        required=True,
        validate=validate.Length(max=200),
        metadata={"description": "minlon,minlat,maxlon,maxlat (WGS-84)"},
    )
    zoom = fields.Integer(required=True, validate=validate.Range(0, 22))
    status = fields.String(
        validate=[validate.Length(max=200), _PRINTABLE],
        metadata={"description": "issues: open (default), all, or statuses separated by commas"},
    )
    category = fields.String(validate=[validate.Length(max=40), _PRINTABLE])
    limit = fields.Integer(load_default=2000, validate=validate.Range(1, queries.MAX_FEATURES))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class SearchQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(required=True, validate=[validate.Length(1, 100), _PRINTABLE])
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 50))


def _english() -> bool:
    return str(get_locale() or "zh").startswith("en")


def cached_json(body: str, max_age: int = 0, mimetype: str = "application/json") -> Response:
    """Answer JSON text with an ETag, 304 when the browser already has it."""
    response = Response(body, mimetype=mimetype)
    response.set_etag(hashlib.md5(body.encode(), usedforsecurity=False).hexdigest())
    response.headers["Cache-Control"] = f"private, max-age={max_age}, must-revalidate"
    response.vary.update(("Cookie", "Authorization", "Accept-Language"))
    return response.make_conditional(request)


@blp.route("/layers/<layer>")
@login_required
@blp.arguments(ViewQuery, location="query")
def layer_in_view(args, layer: str):
    """Return a layer's features in `bbox` at `zoom`: townships, villages, stations, issues, visits, followups."""
    if layer not in queries.LAYERS:
        raise NotFound(f"没有这个图层: {layer} (no such layer)")
    policy.require(current_user, "map.layer", layer)
    bbox = parse_bbox(args["bbox"])
    zoom = args["zoom"]
    options = {"limit": args["limit"], "offset": args["offset"]}
    if layer == "issues":
        options.update(status=args.get("status"), category=args.get("category"), english=_english())
    if layer == "followups":
        options["tz"] = current_app.config["FIELDWATCH_TIMEZONE"]
    result = queries.LAYERS[layer](
        bbox, zoom, queries.Reader.of(current_user), clock.today(), **options
    )
    links = [{"rel": "self", "href": request.url, "type": "application/geo+json"}]
    if result.more and result.mode == "points":
        query = {k: v for k, v in request.args.items() if k != "offset"}
        query["offset"] = args["offset"] + args["limit"]
        links.append(
            {
                "rel": "next",
                "href": url_for(".layer_in_view", layer=layer, _external=True, **query),
                "type": "application/geo+json",
            }
        )
    frame = json.dumps(
        {
            "layer": layer,
            "zoom": zoom,
            "mode": result.mode,
            "truncated": result.more,
            "links": links,
        },
        ensure_ascii=False,
    )
    # PostGIS wrote the features; splice them in rather than parse and re-serialise them
    body = '{"type":"FeatureCollection","features":' + result.features + "," + frame[1:]
    return cached_json(body, mimetype="application/geo+json")


@blp.route("/search")
@login_required
@blp.arguments(SearchQuery, location="query")
def search(args):
    """Find townships, villages and stations by name, and problems by ref: `{items, next}`."""
    policy.require(current_user, "map.view")
    q = re.sub(r"\s+", " ", args["q"]).strip()
    items = queries.search(q, queries.Reader.of(current_user), args["limit"])
    return {"items": items, "next": None}
