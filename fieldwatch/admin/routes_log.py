"""Admin pages for what happened: the audit log and the notification outbox."""

from __future__ import annotations

import json
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fieldwatch.admin import queries
from fieldwatch.admin.routes import actor, bp, needs, page_number
from fieldwatch.errors_core import FieldwatchError
from fieldwatch.exports import export_response
from fieldwatch.extensions import db
from fieldwatch.notify import delivery
from fieldwatch.notify.prefs import KINDS
from fieldwatch.notify.queries import STATES, state_of


def _date_arg(name: str, problems: list[str]) -> date | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
        if not 1900 <= day.year <= 2999:  # the day after must exist
            raise ValueError(value)
        return day
    except ValueError:
        problems.append(_("日期格式应为 YYYY-MM-DD：%(value)s", value=value))
        return None


@bp.route("/audit")
@needs("admin.audit")
def audit():
    """The audit log, newest first: filter by action, actor and dates; page; download."""
    problems: list[str] = []
    filters = {
        "action": request.args.get("action") or None,
        "actor": (request.args.get("actor") or "").strip() or None,
        "since": _date_arg("since", problems),
        "until": _date_arg("until", problems),
    }
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        headers = ["时间", "操作", "操作人", "对象类型", "对象编号", "详情", "IP"]
        rows = (
            (
                e.at,
                e.action,
                getattr(e.actor, "login", ""),
                e.object_type,
                e.object_id,
                json.dumps(e.data or {}, ensure_ascii=False, default=str),
                e.ip,
            )
            for e in queries.audit_rows(**filters)
        )
        return export_response(fmt, _("审计日志"), headers, rows)
    page = queries.audit_log(**filters, page=page_number())
    return render_template(
        "admin/audit.html",
        page=page,
        filters=filters,
        actions=queries.audit_actions(),
        problems=problems,
    ), (422 if problems else 200)


@bp.route("/notifications")
@needs("admin.audit")
def outbox():
    """The notification outbox: what was sent, what waits, what failed and why."""
    state = request.args.get("state") if request.args.get("state") in STATES else None
    page = queries.outbox(state, page_number())
    return render_template(
        "admin/outbox.html",
        page=page,
        state=state,
        states=STATES,
        state_of=state_of,
        kinds=KINDS,
        counts=queries.counts(),
    )


@bp.post("/notifications/<int:message_id>/requeue")
@needs("admin.audit")
def outbox_requeue(message_id: int):
    """Send a failed or interrupted message again on the next `fieldwatch notify` run."""
    try:
        delivery.requeue(message_id, actor=actor())
    except FieldwatchError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("已重新排队，下次发送时发出。"), "success")
    return redirect(url_for("admin.outbox", state=request.args.get("state")))
