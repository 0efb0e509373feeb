"""JSON errors in the DESIGN.md shape: {"error", "message", "errors": {field: [...]}}."""

from __future__ import annotations

from flask import jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

MACHINE_PREFIXES = ("/api/", "/ogc", "/open311", "/tiles/")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}


def wants_json() -> bool:
    """Tell whether this request is from a program (API paths, or JSON preferred)."""
    if request.path.startswith(MACHINE_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _flatten(messages) -> dict[str, list[str]]:
    """Turn webargs' {location: {field: [...]}} into {field: [...]}."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out.setdefault(prefix or "_schema", []).extend(value)
        else:
            out.setdefault(prefix or "_schema", []).append(str(value))

    if isinstance(messages, dict):
        for location, fields in messages.items():
            if isinstance(fields, dict):
                walk("", fields)
            else:
                walk("_schema" if location in ("json", "form", "query") else location, fields)
    return out


def error_body(status: int, message: str, errors: dict | None = None, code: str | None = None):
    return {"error": code or CODES.get(status, "error"), "message": message, "errors": errors or {}}


def json_error(status: int, message: str, errors: dict | None = None, code: str | None = None):
    response = jsonify(error_body(status, message, errors, code))
    response.status_code = status
    return response


class JsonErrorApi(Api):
    """flask-smorest's Api, answering errors in our shape (and pages to browsers)."""

    def handle_http_exception(self, error: HTTPException):
        if not wants_json():
            from fieldwatch.errors.pages import render_error_page

            return render_error_page(error.code or 500, error.description)
        data = getattr(error, "data", None) or {}
        errors = _flatten(data.get("messages", {})) if data else {}
        status = error.code or 500
        if status == 422 and not errors:
            errors = {"_schema": [error.description]}
        message = data.get("message") or (
            "请求的值无效 (invalid values)" if status == 422 else error.description
        )
        response = json_error(status, message, errors)
        for name, value in (data.get("headers") or {}).items():
            response.headers[name] = value
        if getattr(error, "response", None) is not None and error.response is not None:
            for name in ("WWW-Authenticate", "Retry-After", "Allow"):
                if name in error.response.headers:
                    response.headers[name] = error.response.headers[name]
        return response
