"""OGC API – Features at /ogc: landing page, conformance, API, collections, items."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request, url_for
from flask_login import current_user

from fieldwatch import clock, policy
from fieldwatch.errors_core import FieldwatchError, Forbidden, NotFound
from fieldwatch.ogc import openapi, params, queries
from fieldwatch.ogc.layers import CRS84, LAYERS, Layer

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]


class SignInRequired(FieldwatchError):
    status = 401
    code = "unauthorized"


@bp.after_request
def _challenge(response: Response) -> Response:
    """Tell clients how to authenticate (QGIS and GDAL send the token header)."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="fieldwatch"'
    return response


def _json(data, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(data, ensure_ascii=False), mimetype=mimetype)


def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def _public() -> bool:
    return bool(current_app.config.get("PUBLIC_LAYERS"))


def _user():
    return current_user if current_user.is_authenticated else None


def _readable() -> list[Layer]:
    return [
        layer
        for layer in LAYERS.values()
        if policy.can_read_layer(current_user, layer.id, _public())
    ]


def _layer(collection_id: str) -> Layer:
    """Return the layer the user may read, or raise 404 / 401 / 403."""
    layer = LAYERS.get(collection_id)
    if layer is None:
        raise NotFound(f"没有图层 {collection_id} (no such collection; see /ogc/collections)")
    if not policy.can_read_layer(current_user, layer.id, _public()):
        if not current_user.is_authenticated:
            raise SignInRequired("需要登录 (sign in or send a Bearer token)")
        raise Forbidden("没有权限 (your role may not read this layer)")
    return layer


@bp.get("", strict_slashes=False)
def landing():
    """The landing page: links to the API document, conformance and the collections."""
    params.check_known(request.args, "page")
    return _json(
        {
            "title": "fieldwatch OGC API – Features",
            "description": "县政协“有事来协商”平台的乡镇、村（社区）、工作站、问题、走访和回头看图层。"
            " Places, stations, problems, visits and look-backs, CRS84.",
            "links": [
                {
                    "href": _url("ogc.landing"),
                    "rel": "self",
                    "type": "application/json",
                    "title": "this document",
                },
                {
                    "href": _url("ogc.api_document"),
                    "rel": "service-desc",
                    "type": openapi.OPENAPI_TYPE,
                    "title": "the API definition (OpenAPI 3.0)",
                },
                {
                    "href": _url("ogc.conformance"),
                    "rel": "conformance",
                    "type": "application/json",
                    "title": "conformance classes",
                },
                {
                    "href": _url("ogc.collections"),
                    "rel": "data",
                    "type": "application/json",
                    "title": "the collections",
                },
            ],
        }
    )


@bp.get("/conformance")
def conformance():
    """The conformance classes: core, GeoJSON, OpenAPI 3.0."""
    params.check_known(request.args, "page")
    return _json({"conformsTo": CONFORMANCE})


@bp.get("/api")
def api_document():
    """The OpenAPI 3.0 document of this API."""
    params.check_known(request.args, "page")
    document = openapi.document(_url("ogc.landing"), params.DEFAULT_LIMIT, params.MAX_LIMIT)
    return Response(json.dumps(document, ensure_ascii=False), content_type=openapi.OPENAPI_TYPE)


def _collection(layer: Layer) -> dict:
    body = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": [
            {
                "href": _url("ogc.collection", collection_id=layer.id),
                "rel": "self",
                "type": "application/json",
                "title": layer.title,
            },
            {
                "href": _url("ogc.items", collection_id=layer.id),
                "rel": "items",
                "type": openapi.GEOJSON,
                "title": "features",
            },
            {
                "href": _url("ogc.schema", collection_id=layer.id),
                "rel": "describedby",
                "type": openapi.SCHEMA_JSON,
                "title": "JSON Schema of the features",
            },
            {
                # GDAL 3.6 (Debian 12) looks for this spelling only; without the schema it
                # guesses types from the first page (a column null there becomes String)
                "href": _url("ogc.schema", collection_id=layer.id),
                "rel": "describedBy",
                "type": openapi.SCHEMA_JSON,
                "title": "JSON Schema of the features (for GDAL)",
            },
        ],
    }
    box = queries.extent(layer)
    if box is not None:
        body["extent"] = {"spatial": {"bbox": [list(box)], "crs": CRS84}}
    return body


@bp.get("/collections")
def collections():
    """The layers this user may read."""
    params.check_known(request.args, "page")
    layers = _readable()
    if not layers and not current_user.is_authenticated:
        raise SignInRequired("需要登录 (sign in or send a Bearer token)")
    return _json(
        {
            "links": [{"href": _url("ogc.collections"), "rel": "self", "type": "application/json"}],
            "collections": [_collection(layer) for layer in layers],
        }
    )


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    """One layer: title, extent, links."""
    params.check_known(request.args, "page")
    return _json(_collection(_layer(collection_id)))


@bp.get("/collections/<collection_id>/schema")
def schema(collection_id: str):
    """The layer's features as JSON Schema."""
    layer = _layer(collection_id)
    body = openapi.json_schema(layer, _url("ogc.schema", collection_id=layer.id))
    return _json(body, openapi.SCHEMA_JSON)


def _page_url(layer: Layer, offset: int, limit: int) -> str:
    args = {k: v for k, v in request.args.items() if k not in ("offset", "limit")}
    args.update(limit=str(limit), offset=str(offset))
    return f"{_url('ogc.items', collection_id=layer.id)}?{urlencode(args)}"


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    """A page of features: bbox, datetime, limit, offset; next/prev links."""
    layer = _layer(collection_id)
    args = request.args
    params.check_known(args, "items")
    limit = params.limit(args.get("limit"))
    offset = params.offset(args.get("offset"))
    filters = queries.Filters(params.bbox(args.get("bbox")), params.interval(args.get("datetime")))
    features = queries.features_page(layer, _user(), filters, limit, offset)
    if len(features) < limit and (features or offset == 0):
        matched = offset + len(features)  # the last page: no need to count
    elif offset == 0:
        matched = queries.count_matched(layer, _user(), filters)
    else:
        matched = None  # GDAL and QGIS read numberMatched from the first page only
    links = [
        {"href": _page_url(layer, offset, limit), "rel": "self", "type": openapi.GEOJSON},
        {
            "href": _url("ogc.collection", collection_id=layer.id),
            "rel": "collection",
            "type": "application/json",
        },
    ]
    more = offset + len(features) < matched if matched is not None else len(features) == limit
    if more:
        links.append(
            {
                "href": _page_url(layer, offset + limit, limit),
                "rel": "next",
                "type": openapi.GEOJSON,
            }
        )
    if offset > 0:
        links.append(
            {
                "href": _page_url(layer, max(0, offset - limit), limit),
                "rel": "prev",
                "type": openapi.GEOJSON,
            }
        )
    head = {
        "type": "FeatureCollection",
        "numberReturned": len(features),
        "timeStamp": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }
    if matched is not None:
        head["numberMatched"] = matched
    # the features are PostGIS's text, spliced in unparsed
    body = json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[' + ",".join(features) + "]}"
    response = Response(body, mimetype=openapi.GEOJSON)
    response.headers["Content-Crs"] = f"<{CRS84}>"
    return response


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str):
    """One feature by id (issues also by ref)."""
    layer = _layer(collection_id)
    params.check_known(request.args, "item")
    fid = _feature_id(layer, feature_id)
    text = queries.feature(layer, _user(), fid) if fid is not None else None
    if text is None:
        raise NotFound(f"{layer.id} 中没有 {feature_id} (no such feature)")
    links = [
        {
            "href": _url("ogc.item", collection_id=layer.id, feature_id=feature_id),
            "rel": "self",
            "type": openapi.GEOJSON,
        },
        {
            "href": _url("ogc.collection", collection_id=layer.id),
            "rel": "collection",
            "type": "application/json",
        },
    ]
    body = text[:-1] + ',"links":' + json.dumps(links) + "}"
    response = Response(body, mimetype=openapi.GEOJSON)
    response.headers["Content-Crs"] = f"<{CRS84}>"
    return response


def _feature_id(layer: Layer, feature_id: str) -> int | None:
    if feature_id.isascii() and feature_id.isdigit() and len(feature_id) < 18:
        return int(feature_id)
    if layer.id == "issues":
        from fieldwatch.issues.services import get_issue

        try:
            return get_issue(feature_id).id
        except NotFound:
            return None
    return None
