"""What the look-back pages show: labels, messages, the board's map and exports."""

from __future__ import annotations

import json

from flask import current_app, g, url_for
from flask_babel import gettext as _
from markupsafe import escape

from fieldwatch import exports
from fieldwatch.areas import queries as areas
from fieldwatch.extensions import db
from fieldwatch.followups import queries
from fieldwatch.followups.forms import FINDING_LABELS, KIND_LABELS, SATISFACTION_LABELS
from fieldwatch.issues.present import STATUS_LABELS as ISSUE_STATUS_LABELS
from fieldwatch.map import builders
from fieldwatch.map.basemap import wgs84_basemap
from fieldwatch.models import Area


def watch_map(scope):
    rows = queries.problems_to_watch(scope, limit=300)
    problems = [
        {
            "lon": r.lon,
            "lat": r.lat,
            "overdue": r.overdue,
            "reopened": r.reopened,
            "tooltip": f"{r.ref} {r.title}",
            "popup": str(
                escape(f"{r.ref} ")
                + escape(r.title)
                + escape(" · ")
                + escape(_("返工 %(n)d 次", n=r.reopen_count) if r.reopen_count else _("已逾期"))
            ),
        }
        for r in rows
    ]
    labels = {
        "title": _("逾期与返工的问题"),
        "overdue": _("逾期"),
        "reopened": _("回头看后返工"),
        "both": _("逾期且返工"),
    }
    township = db.session.get(Area, scope.township_id) if scope.township_id else None
    outlines = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": json.loads(o.geometry), "properties": {"name": o.name}}
            for o in areas.outlines("township", tolerance=0.001)
            if o.geometry and (township is None or o.code == township.code)
        ],
    }
    m = builders.watch_map(problems, labels, basemap=wgs84_basemap(), outlines=outlines)
    return builders.embed(m, url_for("static", filename=""), g.csp_nonce), len(rows)


def export(fmt: str, table: str, period, scope, by):
    """Answer the board's tables as CSV (UTF-8 with BOM) or .xlsx."""
    label = queries.quarter_label(period)
    if table == "ranking":
        rows = queries.ranking(period, queries.Scope(scope.township_id))
        headers = [_("名次"), _("编码"), _("乡镇(街道)"), _("覆盖率%"), _("走访得分%"),
                   _("办结率%"), _("回头看按期率%"), _("得分")]  # fmt: skip
        data = (
            [r["rank"], r["code"], r["name"], r["shares"]["coverage"], r["shares"]["visits"],
             r["shares"]["closed"], r["shares"]["lookbacks_on_time"], r["score"]]
            for r in rows
        )  # fmt: skip
        return exports.export_response(fmt, f"季考季评-{label}", headers, data)
    if table == "breakdown":
        rows, totals = queries.breakdown(scope, period, by)
        headers = [_("编码"), _("名称"), _("办结"), _("销号"), _("回头看后销号"), _("返工率%"),
                   _("按期率%"), _("平均办结天数"), _("满意度%"), _("回头看"), _("非现场")]  # fmt: skip
        data = [
            [r["code"], r["name"] or _("（未指定）"), r["resolved"], r["closed"],
             r["closed_after_lookback"], r["rework_rate"], r["on_time_rate"],
             r["avg_days_to_close"], r["satisfaction_pct"], r["lookbacks_done"], r["off_site"]]
            for r in [*rows, {**totals, "code": "", "name": _("合计")}]
        ]  # fmt: skip
        return exports.export_response(fmt, f"回头看统计-{label}", headers, data)
    items = []
    for state in ("overdue", "due"):
        items += queries.followups(scope, state, limit=10_000)[0]
    items += queries.followups(scope, "done", limit=10_000, period=period)[0]
    headers = [_("编号"), _("问题"), _("标题"), _("类型"), _("乡镇(街道)"), _("承办单位"),
               _("到期日"), _("状态"), _("逾期天数"), _("完成时间"), _("现场情况"), _("现场"),
               _("距离(米)"), _("群众评价"), _("回头看人"), _("指派给")]  # fmt: skip
    data = (
        [r.id, r.ref, r.title, str(KIND_LABELS.get(r.kind, r.kind)), r.township_name,
         r.unit_name, r.due_on, state_label(r.state), r.days_overdue, r.done_at,
         str(FINDING_LABELS.get(r.finding, "")) if r.finding else "",
         None if r.on_site is None else r.on_site, r.distance_m,
         str(SATISFACTION_LABELS.get(r.satisfaction, "")) if r.satisfaction else "",
         r.inspector_name, r.assignee_name]
        for r in items
    )  # fmt: skip
    return exports.export_response(fmt, f"回头看-{label}", headers, data)


def state_label(state: str) -> str:
    return {"due": _("待回头看"), "overdue": _("已逾期"), "done": _("已完成")}[state]


def status_label(status: str) -> str:
    """A problem's status in words."""
    return str(ISSUE_STATUS_LABELS.get(status, status))


def queue_messages() -> dict:
    """The words of the offline queue's list (offline-queue.js `mount`)."""
    return {
        "title": _("本机待上传"),
        "empty": _("本机没有待上传的内容。"),
        "sendNow": _("立即发送"),
        "retry": _("重试"),
        "remove": _("删除"),
        "open": _("查看"),
        "confirmRemove": _("删除后这条记录和照片将从本机清除，确定吗？"),
        "states": {
            "waiting": _("等待中"),
            "sending": _("发送中"),
            "sent": _("已发送"),
            "failed": _("失败"),
        },
        "photos": _("张照片"),
        "offline": _("当前离线，联网后自动发送。"),
    }


def js_messages() -> dict:
    """The words lookback-record.js shows (translated here, not in the script)."""
    return {
        "locating": _("正在获取位置…"),
        "no_geo": _("此浏览器不能定位；可以不带位置提交，将记为非现场。"),
        "denied": _("没有定位权限；可以不带位置提交，将记为非现场。"),
        "accuracy": _("定位精度 %(m)s 米"),
        "distance": _("距问题地点 %(m)s 米"),
        "on_site": _("在现场"),
        "off_site": _("非现场"),
        "choose": _("请选择现场情况"),
        "sending": _("正在提交…"),
        "queued": _(
            "网络不通：已保存在本机“待上传”，联网后自动提交（也可在“我的待办”里立即发送）。"
        ),
        "failed": _("提交失败"),
        "no_position": _("没有定位：将记为非现场。"),
    }


def outcome(followup) -> str:
    where = _("现场") if followup.on_site else _("非现场")
    if followup.issue is None:
        return _("已记录回头看（%(where)s）。", where=where)
    if followup.finding == "solved" and followup.issue.status == "closed":
        return _("已记录回头看（%(where)s）：问题已解决，已销号。", where=where)
    if followup.finding == "solved":
        return _("已记录回头看（%(where)s）：问题已解决。", where=where)
    return _("已记录回头看（%(where)s）：问题未彻底解决，已退回整改。", where=where)


def issue_lookbacks(issue_id: int) -> list:
    """A problem's look-backs, oldest due first (for the problem's own page)."""
    rows = queries.followups(queries.Scope(), None, limit=50, issue_id=issue_id)[0]
    return sorted(rows, key=lambda r: (r.due_on, r.id))


def issue_url(issue_id: int) -> str | None:
    """Return the problem's detail page, once the issues area serves one."""
    if "issues.detail" not in current_app.view_functions:
        return None
    return url_for("issues.detail", issue_id=issue_id)
