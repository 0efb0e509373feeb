"""Every /api/v1 route is in the OpenAPI document: a route without a schema fails here."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: Flask's `<int:id>` / `<id>` / `<path:rest>` → OpenAPI's `{id}`
_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
IGNORED_METHODS = {"HEAD", "OPTIONS"}
OPERATIONS = {"get", "put", "post", "delete", "patch"}


def _api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs."):
            continue
        path = _VARIABLE.sub(r"{\1}", rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            routes.add((path, method.lower()))
    return routes


def _described(document: dict) -> set[tuple[str, str]]:
    # paths are relative to the first server's path, if the document names one
    servers = document.get("servers") or [{"url": ""}]
    prefix = urlsplit(servers[0]["url"]).path.rstrip("/")
    return {
        (prefix + path, method)
        for path, operations in document["paths"].items()
        for method in operations
        if method in OPERATIONS
    }


def test_the_conversion_of_flask_rules():
    assert _VARIABLE.sub(r"{\1}", "/issues/<int:issue_id>/photos") == "/issues/{issue_id}/photos"
    assert _VARIABLE.sub(r"{\1}", "/areas/<code>/x/<path:rest>") == "/areas/{code}/x/{rest}"


def test_every_api_route_is_described(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    routes = _api_routes(app)
    assert routes, "no /api/v1 routes registered"
    described = _described(document)
    missing = sorted(routes - described)
    assert not missing, f"routes missing from /api/v1/openapi.json: {missing}"
    # and the document describes nothing that is not served
    assert not sorted(described - routes)


def test_a_route_added_without_flask_smorest_is_caught(app, client):
    from types import SimpleNamespace

    from werkzeug.routing import Map, Rule

    document = client.get("/api/v1/openapi.json").get_json()
    rules = [Rule(r.rule, endpoint=r.endpoint, methods=r.methods) for r in app.url_map.iter_rules()]
    probe = Rule("/api/v1/probe/<int:probe_id>", endpoint="probe", methods=["GET", "DELETE"])
    with_probe = SimpleNamespace(url_map=Map([*rules, probe]))
    missing = _api_routes(with_probe) - _described(document)
    assert missing == {("/api/v1/probe/{probe_id}", "get"), ("/api/v1/probe/{probe_id}", "delete")}
