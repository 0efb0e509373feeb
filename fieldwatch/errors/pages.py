"""Error pages and handlers for domain and database errors."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from fieldwatch.api.errors import json_error, wants_json
from fieldwatch.errors_core import FieldwatchError

log = logging.getLogger(__name__)

TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限",
    404: "找不到页面",
    405: "不支持的操作",
    409: "与当前状态冲突",
    413: "内容太大",
    422: "内容有误",
    429: "尝试次数过多",
    500: "服务器出错",
    503: "服务暂不可用",
}


def render_error_page(status: int, message: str | None = None):
    title = _(TITLES.get(status, "出错了"))
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _domain_error(error: FieldwatchError):
    _safe_rollback()
    if wants_json():
        return json_error(error.status, error.message, error.errors, error.code)
    return render_error_page(error.status, error.message)


def _safe_rollback() -> None:
    from fieldwatch.extensions import db

    try:
        db.session.rollback()
    except DBAPIError:
        db.session.invalidate()  # the connection is gone; the pool pings before the next use


def _database_down(error: DBAPIError):
    from flask import g
    from flask_login import AnonymousUserMixin

    log.error("database unavailable: %s", str(error).splitlines()[0])
    _safe_rollback()
    g._login_user = AnonymousUserMixin()  # the page must not ask the database who is signed in
    message = _("数据库暂时不可用，请稍后再试。") + " (database unavailable)"
    if wants_json():
        response = json_error(503, message)
    else:
        response = render_error_page(503, message)
        response = (response[0], 503, {"Retry-After": "10"})
        return response
    response.headers["Retry-After"] = "10"
    return response


def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        from fieldwatch.extensions import api

        return api.handle_http_exception(error)
    if isinstance(error, DBAPIError) and (
        isinstance(error, OperationalError) or error.connection_invalidated
    ):
        return _database_down(error)
    log.exception("unhandled error")
    _safe_rollback()
    message = _("服务器出错，已记录。") + " (internal error)"
    if wants_json():
        return json_error(500, message)
    return render_error_page(500, message)


def register(app: Flask) -> None:
    app.register_error_handler(FieldwatchError, _domain_error)
    app.register_error_handler(Exception, _unexpected)
