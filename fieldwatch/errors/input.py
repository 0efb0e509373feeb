"""Refuse text no part of the app can store, before any route sees it.

PostgreSQL cannot hold NUL characters in text, and invalid UTF-8 (or a lone
surrogate, which is not a character at all) cannot be stored or shown. Rather
than have every route check every field, one `before_request` hook looks at the
path, the query string, form fields (not file contents) and JSON bodies:

- not UTF-8 anywhere: 400 (unparseable);
- a NUL or a lone surrogate: 422 naming every such field, in the DESIGN.md shape
  (GeoReport's `[{code, description}]` under /open311), or a page for browsers;
- except in a form a person posted from one of our pages: there NUL characters
  are dropped, so that nobody loses what they typed to an invisible character.
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, g, request
from werkzeug.datastructures import ImmutableMultiDict

from fieldwatch.api.errors import json_error, wants_json

#: werkzeug decodes multipart text fields with errors="replace": undecodable bytes show up as this
REPLACEMENT = "\ufffd"
NOT_UTF8 = "请求内容不是 UTF-8 编码 (the request is not valid UTF-8)"
TOO_DEEP = "JSON 嵌套太深 (JSON nested too deeply)"
BAD_CHARACTER = "不能含有空字符或无效字符 (NUL characters and lone surrogates are not allowed)"


class Problems:
    """Fields with bad text; 400 if anything was not UTF-8, else 422."""

    def __init__(self):
        self.fields: dict[str, list[str]] = {}
        self.not_utf8 = False
        self.only_nul_in_form = True

    def add(self, field: str, message: str, *, nul_in_form: bool = False) -> None:
        self.fields.setdefault(field or "_schema", [message])
        if message is NOT_UTF8 or message is TOO_DEEP:
            self.not_utf8 = True
        if not nul_in_form:
            self.only_nul_in_form = False

    @property
    def status(self) -> int:
        return 400 if self.not_utf8 else 422

    @property
    def message(self) -> str:
        return NOT_UTF8 if self.not_utf8 else BAD_CHARACTER


def _surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _bad_text(text: str) -> bool:
    return "\x00" in text or _surrogate(text)


def _check_pairs(raw: bytes, where: str, problems: Problems, form: bool = False) -> None:
    """Check an urlencoded string (query or form body) byte for byte, before any decoding."""
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        try:
            field = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            problems.add(where, NOT_UTF8)
            continue
        try:
            text = unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            problems.add(field or where, NOT_UTF8)
            continue
        if _surrogate(field) or _surrogate(text):
            problems.add(field or where, BAD_CHARACTER)
        elif "\x00" in field or "\x00" in text:
            problems.add(field.replace("\x00", "") or where, BAD_CHARACTER, nul_in_form=form)


def _check_multipart(problems: Problems) -> None:
    for name, value in request.form.items(multi=True):
        name, value = name or "", value or ""  # a part whose header could not be read
        # undecodable bytes come out as U+FFFD or as escaped surrogates
        if REPLACEMENT in name + value or _surrogate(name + value):
            problems.add(name, NOT_UTF8)
        elif "\x00" in name or "\x00" in value:
            problems.add(name.replace("\x00", ""), BAD_CHARACTER, nul_in_form=True)


def _check_json(body, problems: Problems) -> None:
    """Walk a parsed JSON body (iteratively: nesting may be deep) for bad strings."""
    stack = [(body, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _bad_text(value):
                problems.add(path, BAD_CHARACTER)
        elif isinstance(value, dict):
            for key, item in value.items():
                if _bad_text(key):
                    problems.add(path, BAD_CHARACTER)
                    continue
                stack.append((item, f"{path}.{key}" if path else key))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{i}" if path else str(i)) for i, item in enumerate(value))


def _check_path(problems: Problems) -> None:
    raw = request.environ.get("PATH_INFO", "")
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        problems.add("path", NOT_UTF8)
        return
    if _bad_text(text):
        problems.add("path", NOT_UTF8 if _surrogate(text) else BAD_CHARACTER)


def _check_body(problems: Problems) -> None:
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        _check_pairs(request.get_data(cache=True), "form", problems, form=True)
    elif mimetype == "multipart/form-data":
        _check_multipart(problems)
    elif request.is_json and request.content_length != 0:
        raw = request.get_data(cache=True)
        if not raw:
            return
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.add("_schema", NOT_UTF8)
            return
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # nested deeper than the parser goes: not JSON we can read
            problems.add("_schema", TOO_DEEP)
            return
        if body is not None:
            _check_json(body, problems)


def _drop_nul_from_form() -> None:
    """Replace the parsed form by one without NUL characters (what the person meant)."""
    cleaned = ImmutableMultiDict(
        [(k.replace("\x00", ""), v.replace("\x00", "")) for k, v in request.form.items(multi=True)]
    )
    request.__dict__["form"] = cleaned  # Request.form is a cached property


def _refuse(problems: Problems):
    g.csp_nonce = getattr(g, "csp_nonce", None) or secrets.token_urlsafe(16)
    if request.path.startswith("/open311"):
        # GeoReport v2 errors: an array of {code, description}; it knows 400, not 422
        fields = ", ".join(sorted(problems.fields))
        body = [{"code": 400, "description": f"{problems.message} ({fields})"}]
        return Response(json.dumps(body, ensure_ascii=False), 400, mimetype="application/json")
    if wants_json():
        return json_error(problems.status, problems.message, problems.fields)
    from fieldwatch.errors.pages import render_error_page

    return render_error_page(problems.status, problems.message)


def check_input():
    """Refuse NUL characters, lone surrogates and invalid UTF-8 anywhere in the request."""
    problems = Problems()
    _check_path(problems)
    _check_pairs(request.query_string, "query", problems)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        _check_body(problems)
    if not problems.fields:
        return None
    if problems.only_nul_in_form and not wants_json():
        _drop_nul_from_form()
        return None
    return _refuse(problems)


def register(app: Flask) -> None:
    # first of all hooks: CSRF and sign-in must not read undecodable text either
    app.before_request_funcs.setdefault(None, []).insert(0, check_input)
