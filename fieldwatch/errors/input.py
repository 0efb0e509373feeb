"""Refuse text no part of the app can store, before any route sees it.

PostgreSQL cannot hold NUL characters in text, and invalid UTF-8 (or a lone
surrogate, which is not a character at all) cannot be stored or shown. Rather
than have every route check every field, one `before_request` hook looks at the
path, the query string, form fields (not file contents) and JSON bodies, and
answers 400 (not UTF-8: unparseable) or 422 (a NUL or a lone surrogate: an
invalid value, naming the field) in the DESIGN.md shape, or a page for browsers.
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, g, request

from fieldwatch.api.errors import json_error, wants_json

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
#: werkzeug decodes multipart text fields with errors="replace": undecodable bytes show up as this
REPLACEMENT = "\ufffd"
NOT_UTF8 = "请求内容不是 UTF-8 编码 (the request is not valid UTF-8)"
TOO_DEEP = "JSON 嵌套太深 (JSON nested too deeply)"
BAD_CHARACTER = "不能含有空字符或无效字符 (NUL characters and lone surrogates are not allowed)"


class BadInput(Exception):
    def __init__(self, status: int, message: str, field: str = "_schema"):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def _bad_text(text: str) -> bool:
    return "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _undecoded(text: str) -> bool:
    return REPLACEMENT in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _check_pairs(raw: bytes, where: str) -> None:
    """Check an urlencoded string (query or form body) byte for byte, before any decoding."""
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        name_b = unquote_to_bytes(name.replace(b"+", b" "))
        value_b = unquote_to_bytes(value.replace(b"+", b" "))
        try:
            field = name_b.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(400, NOT_UTF8, where) from None
        try:
            text = value_b.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(400, NOT_UTF8, field or where) from None
        if _bad_text(field) or _bad_text(text):
            raise BadInput(422, BAD_CHARACTER, field or where)


def _check_json(body) -> None:
    """Walk a parsed JSON body (iteratively: nesting may be deep) for bad strings."""
    stack = [(body, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _bad_text(value):
                raise BadInput(422, BAD_CHARACTER, path or "_schema")
        elif isinstance(value, dict):
            for key, item in value.items():
                if _bad_text(key):
                    raise BadInput(422, BAD_CHARACTER, path or "_schema")
                stack.append((item, f"{path}.{key}" if path else key))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{i}" if path else str(i)) for i, item in enumerate(value))


def _check_path() -> None:
    raw = request.environ.get("PATH_INFO", "")
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise BadInput(400, NOT_UTF8, "path") from None
    if _bad_text(text):
        raise BadInput(400, BAD_CHARACTER, "path")


def _check_body() -> None:
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        _check_pairs(request.get_data(cache=True), "form")
    elif mimetype == "multipart/form-data":
        for name, value in request.form.items(multi=True):
            name, value = name or "", value or ""  # a part whose header could not be read
            # undecodable bytes come out as U+FFFD or as escaped surrogates
            if _undecoded(name) or _undecoded(value):
                raise BadInput(400, NOT_UTF8, name)
            if "\x00" in name or "\x00" in value:
                raise BadInput(422, BAD_CHARACTER, name)
    elif request.is_json and request.content_length != 0:
        raw = request.get_data(cache=True)
        if not raw:
            return
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(400, NOT_UTF8) from None
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # nested deeper than the parser goes: not JSON we can read
            raise BadInput(400, TOO_DEEP) from None
        if body is not None:
            _check_json(body)


def check_input():
    """Refuse NUL characters, lone surrogates and invalid UTF-8 anywhere in the request."""
    try:
        _check_path()
        _check_pairs(request.query_string, "query")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _check_body()
    except BadInput as bad:
        g.csp_nonce = getattr(g, "csp_nonce", None) or secrets.token_urlsafe(16)
        if request.path.startswith("/open311"):
            # GeoReport v2 errors: an array of {code, description}; it knows 400, not 422
            body = [{"code": 400, "description": f"{bad.field}: {bad.message}"}]
            return Response(json.dumps(body, ensure_ascii=False), 400, mimetype="application/json")
        if wants_json():
            return json_error(bad.status, bad.message, {bad.field: [bad.message]})
        from fieldwatch.errors.pages import render_error_page

        return render_error_page(bad.status, bad.message)
    return None


def register(app: Flask) -> None:
    # first of all hooks: CSRF and sign-in must not read undecodable text either
    app.before_request_funcs.setdefault(None, []).insert(0, check_input)
