"""The JSON API at /api/v1 (flask-smorest: validation and the OpenAPI document).

Every area registers its API blueprint with `register_blueprint`, which also
exempts it from form CSRF and puts it behind `guard_cookie_writes`: a write
authenticated by the session cookie must come from our own origin (the offline
queue posts days later, when a form's CSRF token would have expired), while a
Bearer-token write needs no such check.
"""

from __future__ import annotations

from flask import Flask, g, request, url_for
from flask_login import current_user
from flask_smorest import Blueprint

from fieldwatch.api.errors import json_error

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def same_origin() -> bool:
    """Tell whether the request comes from a page of this site."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        referer = request.headers.get("Referer", "")
        return referer.startswith(request.host_url)
    return origin.rstrip("/") == request.host_url.rstrip("/")


def guard_cookie_writes():
    """Refuse a cookie-authenticated write from another site (CSRF for the API)."""
    if request.method in SAFE_METHODS:
        return None
    # current_user first: loading it (from the token) is what sets g.auth_via
    signed_in = current_user.is_authenticated
    if getattr(g, "auth_via", None) == "token":
        return None
    if signed_in and not same_origin():
        return json_error(403, "跨站请求被拒绝 (cross-site request refused)")
    return None


def register_blueprint(app: Flask, blueprint: Blueprint, **options) -> None:
    """Register an API blueprint under /api/v1 with the guard and no form CSRF."""
    from fieldwatch.extensions import api, csrf

    if not getattr(blueprint, "_fieldwatch_guarded", False):  # blueprints outlive one app
        blueprint.before_request(guard_cookie_writes)
        blueprint._fieldwatch_guarded = True
    csrf.exempt(blueprint)
    options.setdefault("url_prefix", f"/api/v1{blueprint.url_prefix or ''}")
    api.register_blueprint(blueprint, **options)


def next_page_url(endpoint: str, more: bool, offset: int, limit: int) -> str | None:
    """The `next` link of a list page: the same query at the next offset (None on the last page)."""
    if not more:
        return None
    query = {k: v for k, v in request.args.items() if k != "offset"}
    return url_for(endpoint, _external=True, **query, offset=offset + limit)


def api_login_required():
    """Answer 401 in our shape unless someone is signed in (session or token)."""
    if not current_user.is_authenticated:
        return json_error(401, "需要登录 (sign in or send a Bearer token)")
    return None


def register(app: Flask) -> None:
    """Register the API's own small endpoints (the areas register theirs)."""
    from fieldwatch.api.me import blp

    register_blueprint(app, blp)
