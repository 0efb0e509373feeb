"""The OpenAPI 3.0 document for /ogc and each layer's JSON Schema, built from the layers."""

from __future__ import annotations

from fieldwatch.ogc.layers import CRS84, LAYERS, Layer

OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"

_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "date-time": {"type": "string", "format": "date-time"},
}


def property_schema(layer: Layer) -> dict:
    """The schema of a feature's `properties`: every key always present, null when empty."""
    return {
        "type": "object",
        "required": [p.name for p in layer.properties],
        "properties": {
            p.name: {**_TYPES[p.type], "nullable": True, "description": p.description}
            for p in layer.properties
        },
    }


def _geometry_schema(layer: Layer) -> dict:
    return {
        "type": "object",
        "nullable": True,
        "description": f"GeoJSON {layer.geometry_type} in CRS84 (longitude, latitude), or null",
        "properties": {
            "type": {"type": "string", "enum": [layer.geometry_type]},
            "coordinates": {"type": "array", "items": {}},
        },
    }


def feature_schema(layer: Layer) -> dict:
    return {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": _geometry_schema(layer),
            "properties": property_schema(layer),
        },
    }


def json_schema(layer: Layer, self_url: str) -> dict:
    """The layer's features as JSON Schema (what GDAL reads from the `describedby` link)."""
    schema = feature_schema(layer)
    properties = {
        p.name: {**_TYPES[p.type], "description": p.description} for p in layer.properties
    }
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": self_url,
        "title": layer.title,
        "description": layer.description,
        "type": "object",
        "required": schema["required"],
        "properties": {
            **schema["properties"],
            "geometry": {"type": "object", "description": f"{layer.geometry_type} or null"},
            "properties": {"type": "object", "properties": properties},
        },
    }


def _param(name: str, description: str, schema: dict, required: bool = False, where="query"):
    return {
        "name": name,
        "in": where,
        "description": description,
        "required": required,
        "schema": schema,
        "style": "form" if where == "query" else "simple",
        "explode": False,
    }


def parameters(default_limit: int, max_limit: int) -> dict:
    return {
        "limit": _param(
            "limit",
            f"Features per page: default {default_limit}, at most {max_limit} "
            "(a larger value is treated as the maximum).",
            {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
        ),
        "offset": _param(
            "offset",
            "Features to skip (the `next` and `prev` links carry it).",
            {"type": "integer", "minimum": 0, "default": 0},
        ),
        "bbox": _param(
            "bbox",
            "minLon,minLat,maxLon,maxLat in CRS84 (6 numbers: the heights are ignored). "
            "Features whose geometry box meets it.",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        ),
        "bbox-crs": _param("bbox-crs", "Only CRS84.", {"type": "string", "enum": [CRS84]}),
        "crs": _param("crs", "Only CRS84.", {"type": "string", "enum": [CRS84]}),
        "datetime": _param(
            "datetime",
            "An RFC 3339 instant or date, or an interval `start/end` with `..` for an open "
            "end. Each layer says which time it filters on; places ignore it.",
            {"type": "string"},
        ),
        "f": _param("f", "Only json.", {"type": "string", "enum": ["json"], "default": "json"}),
        "collectionId": _param(
            "collectionId",
            "The layer.",
            {"type": "string", "enum": list(LAYERS)},
            required=True,
            where="path",
        ),
        "featureId": _param(
            "featureId",
            "The feature's id (the issues layer also takes a ref such as FW-2026-000123).",
            {"type": "string"},
            required=True,
            where="path",
        ),
    }


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _ok(description: str, media: str, schema: dict) -> dict:
    return {"description": description, "content": {media: {"schema": schema}}}


ERRORS = {
    "400": _ref("responses", "BadRequest"),
    "401": _ref("responses", "Unauthorized"),
    "403": _ref("responses", "Forbidden"),
    "404": _ref("responses", "NotFound"),
}


def _op(summary: str, op_id: str, params: list[str], ok: dict, errors=("400",)) -> dict:
    return {
        "get": {
            "summary": summary,
            "operationId": op_id,
            "parameters": [_ref("parameters", p) for p in params],
            "responses": {"200": ok, **{code: ERRORS[code] for code in errors}},
        }
    }


def document(server_url: str, default_limit: int, max_limit: int) -> dict:
    """Return the OpenAPI 3.0 document of the OGC API at `server_url`."""
    link = {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")},
    }
    links = {"type": "array", "items": _ref("schemas", "link")}
    features = {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"type": "object"}},
            "links": links,
            "numberReturned": {"type": "integer", "minimum": 0},
            "numberMatched": {
                "type": "integer",
                "minimum": 0,
                "description": "given when at most 10,000 features match",
            },
            "timeStamp": {"type": "string", "format": "date-time"},
        },
    }
    schemas: dict = {
        "link": link,
        "landingPage": {
            "type": "object",
            "required": ["links"],
            "properties": {
                "title": {"type": "string"},
                "description": {"type": "string"},
                "links": links,
            },
        },
        "confClasses": {
            "type": "object",
            "required": ["conformsTo"],
            "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
        },
        "collection": {
            "type": "object",
            "required": ["id", "links"],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "itemType": {"type": "string"},
                "crs": {"type": "array", "items": {"type": "string"}},
                "extent": {"type": "object"},
                "links": links,
            },
        },
        "collections": {
            "type": "object",
            "required": ["links", "collections"],
            "properties": {
                "links": links,
                "collections": {"type": "array", "items": _ref("schemas", "collection")},
            },
        },
        "featureCollectionGeoJSON": features,
        "featureGeoJSON": {"type": "object"},
        "error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": {"type": "string"},
                "message": {"type": "string"},
                "errors": {"type": "object"},
            },
        },
    }
    paths: dict = {
        "/": _op(
            "The landing page",
            "getLandingPage",
            ["f"],
            _ok(
                "Links to the API, conformance and collections",
                JSON,
                _ref("schemas", "landingPage"),
            ),
        ),
        "/conformance": _op(
            "The conformance classes",
            "getConformanceDeclaration",
            ["f"],
            _ok("The classes this API conforms to", JSON, _ref("schemas", "confClasses")),
        ),
        "/api": _op(
            "This document",
            "getAPIDefinition",
            [],
            _ok("The OpenAPI document", OPENAPI_TYPE, {"type": "object"}),
        ),
        "/collections": _op(
            "The layers you may read",
            "getCollections",
            ["f"],
            _ok("The collections", JSON, _ref("schemas", "collections")),
            ("400", "401"),
        ),
        "/collections/{collectionId}": _op(
            "One layer",
            "describeCollection",
            ["collectionId", "f"],
            _ok("The collection", JSON, _ref("schemas", "collection")),
            ("400", "401", "403", "404"),
        ),
        "/collections/{collectionId}/items": _op(
            "A page of a layer's features",
            "getFeatures",
            ["collectionId", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "f"],
            _ok("The features", GEOJSON, _ref("schemas", "featureCollectionGeoJSON")),
            ("400", "401", "403", "404"),
        ),
        "/collections/{collectionId}/items/{featureId}": _op(
            "One feature",
            "getFeature",
            ["collectionId", "featureId", "crs", "f"],
            _ok("The feature", GEOJSON, _ref("schemas", "featureGeoJSON")),
            ("400", "401", "403", "404"),
        ),
        "/collections/{collectionId}/schema": _op(
            "The layer's features as JSON Schema",
            "getSchema",
            ["collectionId"],
            _ok("JSON Schema", SCHEMA_JSON, {"type": "object"}),
            ("401", "403", "404"),
        ),
    }
    for layer in LAYERS.values():
        name = f"{layer.id}Feature"
        schemas[name] = feature_schema(layer)
        page = {
            "allOf": [
                _ref("schemas", "featureCollectionGeoJSON"),
                {
                    "type": "object",
                    "properties": {"features": {"type": "array", "items": _ref("schemas", name)}},
                },
            ]
        }
        paths[f"/collections/{layer.id}/items"] = _op(
            f"{layer.title}: {layer.description}",
            f"getFeatures_{layer.id}",
            ["limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "f"],
            _ok(f"{layer.title}", GEOJSON, page),
            ("400", "401", "403"),
        )
        paths[f"/collections/{layer.id}/items/{{featureId}}"] = _op(
            f"One feature of {layer.id}",
            f"getFeature_{layer.id}",
            ["featureId", "crs", "f"],
            _ok(f"One of {layer.title}", GEOJSON, _ref("schemas", name)),
            ("400", "401", "403", "404"),
        )

    def error(description: str) -> dict:
        return _ok(description, JSON, _ref("schemas", "error"))

    return {
        "openapi": "3.0.3",
        "info": {
            "title": "fieldwatch OGC API – Features",
            "version": "1.0.0",
            "description": "Places, stations, problems, visits and look-backs of the county's "
            "consultation platform, for GIS tools (QGIS, GDAL). CRS84 only. Send "
            "`Authorization: Bearer TOKEN`; places and stations may be public "
            "(FIELDWATCH_PUBLIC_LAYERS=1). No personal data in any layer.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}, {"cookieAuth": []}, {}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "parameters": parameters(default_limit, max_limit),
            "schemas": schemas,
            "responses": {
                "BadRequest": error("A parameter is not understood"),
                "Unauthorized": error("Sign in or send a Bearer token"),
                "Forbidden": error("Your role may not read this layer"),
                "NotFound": error("No such layer or feature (or not visible to you)"),
            },
        },
    }
