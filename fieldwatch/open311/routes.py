"""Open311 GeoReport v2 at /open311/v2: discovery, services, requests (GET and POST).

Each path answers with and without `.json`; `.xml` is refused (400, "format not
supported: use .json"). Errors are GeoReport's JSON array [{"code", "description"}].
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from flask import Blueprint, Response, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from fieldwatch import clock, policy
from fieldwatch.auth.services import user_for_token
from fieldwatch.errors_core import FieldwatchError, Forbidden, NotFound
from fieldwatch.extensions import db
from fieldwatch.issues.queries import possible_duplicates
from fieldwatch.issues.services import report_issue
from fieldwatch.open311 import queries

log = logging.getLogger(__name__)
bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

#: GeoReport's longest default window, and the widest a client may ask for
WINDOW = timedelta(days=90)
TITLE_CHARS = 60


class BadRequest(FieldwatchError):
    status = 400
    code = "bad_request"


def _answer(data, status: int = 200) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json"
    )


def _errors(status: int, description: str) -> Response:
    return _answer([{"code": status, "description": description}], status)


@bp.errorhandler(FieldwatchError)
def _domain_error(error: FieldwatchError):
    db.session.rollback()
    # GeoReport knows 400, 403 and 404; a value we cannot accept is a 400 there
    status = 400 if error.status == 422 else error.status
    details = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in error.errors.items())
    return _errors(status, f"{error.message} ({details})" if details else error.message)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return _errors(error.code or 500, error.description or error.name)


def _format(fmt: str | None) -> None:
    if fmt not in (None, "json"):
        raise BadRequest("format not supported: use .json (只提供 JSON)")


def _split_suffix(ident: str) -> tuple[str, str | None]:
    base, dot, suffix = ident.rpartition(".")
    if dot and suffix.lower() in ("json", "xml"):
        return base, suffix.lower()
    return ident, None


def _requester(for_write: bool):
    """The user behind `api_key` (or a Bearer token; reads also a session), else 403."""
    key = request.values.get("api_key", "").strip()
    if key:
        user = user_for_token(key)
        if user is None:
            raise Forbidden("api_key 无效 (invalid api_key)")
        return user
    if current_user.is_authenticated and (not for_write or _bearer()):
        return current_user._get_current_object()
    raise Forbidden("需要 api_key (api_key required: an API token from fieldwatch)")


def _bearer() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


@bp.get("/discovery", defaults={"fmt": None})
@bp.get("/discovery.<fmt>")
def discovery(fmt):
    """Where the endpoint is and what it speaks."""
    _format(fmt)
    base = url_for("open311.discovery", fmt=None, _external=True).rsplit("/", 1)[0]
    return _answer(
        {
            "changeset": "2026-01-01T00:00:00+08:00",
            "contact": "县政协办公室 (the county committee's office)",
            "key_service": "API 令牌: 登录后在“API 令牌”页面生成，或由管理员运行 "
            "`fieldwatch users token LOGIN` (an API token of a fieldwatch user)",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base,
                    "changeset": "2026-01-01T00:00:00+08:00",
                    "type": "production",
                    "formats": ["application/json"],
                }
            ],
        }
    )


@bp.get("/services", defaults={"fmt": None})
@bp.get("/services.<fmt>")
def services(fmt):
    """The services: our problem categories."""
    _format(fmt)
    return _answer(queries.services())


@bp.get("/services/<code>")
def service_definition(code: str):
    """A service's extra attributes: none (metadata is false for every service)."""
    code, fmt = _split_suffix(code)
    _format(fmt)
    category = queries.active_category(code)
    if category is None:
        raise NotFound(f"没有服务 {code} (no such service_code)")
    return _answer({"service_code": category.code, "attributes": []})


def _w3c(name: str) -> datetime | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"{name}: W3C 日期时间 (a W3C datetime, e.g. 2026-03-01T00:00:00+08:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.zone())
    if not 1900 <= moment.year <= 2999:  # the 90-day window must fit in the calendar
        raise BadRequest(f"{name}: 1900–2999 年之间 (between the years 1900 and 2999)")
    return moment


def _list_args() -> dict:
    args = request.args
    ids = args.get("service_request_id", "").strip()
    if ids:
        return {"refs": [i.strip() for i in ids.split(",") if i.strip()]}
    statuses = {s.strip().lower() for s in args.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise BadRequest("status: open 或 closed (open or closed)")
    codes = [c.strip() for c in args.get("service_code", "").split(",") if c.strip()]
    start, end = _w3c("start_date"), _w3c("end_date")
    end = end or clock.now()
    start = start or end - WINDOW
    if start > end:
        raise BadRequest("start_date 晚于 end_date (start_date after end_date)")
    if end - start > WINDOW:
        raise BadRequest("start_date 与 end_date 最多相隔 90 天 (at most 90 days apart)")
    return {"service_codes": codes, "start": start, "end": end, "statuses": statuses or None}


@bp.route("/requests", methods=["GET", "POST"], defaults={"fmt": None})
@bp.route("/requests.<fmt>", methods=["GET", "POST"])
def requests_(fmt):
    """GET: the requests by id or by filters (90 days by default); POST: report a problem."""
    _format(fmt)
    if request.method == "POST":
        return _create()
    user = _requester(for_write=False)
    policy.require(user, "issues.view")
    return _answer(queries.find_requests(user, **_list_args()))


@bp.get("/requests/<ident>")
def request_detail(ident: str):
    """One request by its service_request_id (the issue's ref), as a one-item array."""
    ident, fmt = _split_suffix(ident)
    _format(fmt)
    user = _requester(for_write=False)
    policy.require(user, "issues.view")
    found = queries.find_requests(user, refs=[ident])
    if not found:
        raise NotFound(f"没有这个请求: {ident} (no such service_request_id)")
    return _answer(found)


def _title(description: str, service_name: str) -> str:
    first = description.strip().splitlines()[0].strip() if description.strip() else ""
    if not first:
        return service_name
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"


def _contact() -> tuple[str | None, str | None]:
    form = request.form
    name = " ".join(
        part
        for part in (form.get("last_name", "").strip(), form.get("first_name", "").strip())
        if part
    )
    email = form.get("email", "").strip()
    if email:
        name = f"{name} <{email}>" if name else email
    phone = form.get("phone", "").strip()
    if len(name) > 100:
        raise BadRequest("first_name/last_name/email: 太长 (at most 100 characters together)")
    if len(phone) > 40:
        raise BadRequest("phone: 太长 (at most 40 characters)")
    return name or None, phone or None


def _create() -> Response:
    user = _requester(for_write=True)
    policy.require(user, "issues.report")
    form = request.form
    category = queries.active_category(form.get("service_code", "").strip())
    if category is None:
        raise BadRequest(
            f"service_code 未知: {form.get('service_code', '')!r} (unknown service_code; "
            "see services.json)"
        )
    if not form.get("lat", "").strip() or not form.get("long", "").strip():
        raise BadRequest("lat, long: 必填 (required; addresses are not looked up)")
    description = form.get("description", "")
    contact_name, contact_phone = _contact()
    issue, created = report_issue(
        user,
        title=_title(description, category.name),
        category=category.code,
        lon=form.get("long"),
        lat=form.get("lat"),
        description=description,
        client_id=form.get("client_id") or None,
        source="open311",
        address=form.get("address_string", "")[:300] or None,
        contact_name=contact_name,
        contact_phone=contact_phone,
    )
    notice = f"已收到，编号 {issue.ref} (received)"
    nearby = possible_duplicates(issue) if created else []
    if nearby:
        refs = ", ".join(row.ref for row in nearby)
        notice += f"；附近已有同类问题 {refs}，将核对是否重复 (similar open problems nearby)"
    db.session.commit()
    return _answer(
        [{"service_request_id": issue.ref, "service_notice": notice, "account_id": None}],
        201 if created else 200,
    )


@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str):
    """Anything else under /open311/v2: a GeoReport 404."""
    raise NotFound(f"没有 /open311/v2/{rest} (see discovery.json)")
