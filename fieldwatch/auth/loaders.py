"""Flask-Login: sessions (id plus session version) and Bearer tokens."""

from __future__ import annotations

from flask import Flask, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from fieldwatch.api.errors import json_error, wants_json
from fieldwatch.extensions import db, login
from fieldwatch.models import User


def init(app: Flask) -> None:
    login.login_view = "auth.login"
    login.login_message = _l("请先登录。")
    login.session_protection = "basic"


@login.user_loader
def load_user(user_id: str):
    try:
        ident, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, ident)
    if user is None or not user.active or (user.session_version or 0) != version:
        return None
    return user


@login.request_loader
def load_from_token(req):
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    from fieldwatch.auth.services import user_for_token

    user = user_for_token(header[7:].strip())
    if user is not None:
        g.auth_via = "token"
    return user


@login.unauthorized_handler
def unauthorized():
    if wants_json():
        return json_error(401, "需要登录 (sign in or send a Bearer token)")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
