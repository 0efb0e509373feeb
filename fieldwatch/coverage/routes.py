"""The coverage page (choropleth, table, totals), its CSV export and its village layer."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from flask import Blueprint, Flask, Response, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fieldwatch import clock, policy
from fieldwatch.areas import queries as areas
from fieldwatch.coverage import queries
from fieldwatch.coverage.api import check_period
from fieldwatch.errors_core import ValidationError
from fieldwatch.geo import parse_bbox
from fieldwatch.map import builders
from fieldwatch.map.basemap import wgs84_basemap

bp = Blueprint("coverage", __name__)


def _date(name: str) -> date | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            _("日期格式应为 YYYY-MM-DD"), {name: [_("日期格式应为 YYYY-MM-DD")]}
        ) from None


def _period() -> tuple[date, date | None]:
    as_of = _date("as_of") or clock.today()
    since = _date("visited_since")
    check_period(as_of, since)
    return as_of, since


@bp.route("/coverage")
@login_required
def index():
    """Show coverage per township as of a date: map, table, totals."""
    policy.require(current_user, "coverage.view")
    errors: dict[str, list[str]] = {}
    try:
        as_of, since = _period()
    except ValidationError as exc:
        errors = exc.errors
        as_of, since = clock.today(), None
    result = queries.coverage_by_township(as_of, since)
    parts = township_layer = None
    if result.townships:
        m = _map(result)
        township_layer = m.township_layer_name
        parts = builders.embed(m, url_for("static", filename=""), getattr(g, "csp_nonce", ""))
    args = {"as_of": as_of.isoformat()}
    if since:
        args["visited_since"] = since.isoformat()
    return render_template(
        "coverage/index.html",
        result=result,
        since_given=since,
        errors=errors,
        map_parts=parts,
        township_layer=township_layer,
        csv_url=url_for("coverage.export", **args),
        villages_url=url_for("coverage.villages", **args),
        today=clock.today(),
        colour=builders.coverage_colour,
    ), (422 if errors else 200)


def _map(result: queries.Coverage):
    by_code = {t.code: t for t in result.townships}
    features = []
    for row in areas.outlines("township"):
        t = by_code.get(row.code)
        if t is None:
            continue
        pct = t.coverage_pct if t.total else None
        label = f"{t.name}: " + (
            _("覆盖 %(covered)d/%(total)d（%(pct)s%%）", covered=t.covered, total=t.total, pct=pct)
            if t.total
            else _("没有村(社区)")
        )
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(row.geometry),
                "properties": {"code": t.code, "name": t.name, "coverage_pct": pct, "label": label},
            }
        )
    labels = {
        "title": _("村(社区)覆盖率"),
        "full": _("全覆盖"),
        "none": _("没有村(社区)"),
    }
    return builders.coverage_map(
        {"type": "FeatureCollection", "features": features},
        areas.extent("township"),
        labels,
        basemap=wgs84_basemap(),
    )


@bp.route("/coverage.csv")
@login_required
def export():
    """Download the coverage table as CSV (UTF-8 with BOM, so Excel shows Chinese)."""
    policy.require(current_user, "coverage.view")
    as_of, since = _period()
    result = queries.coverage_by_township(as_of, since)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(
        ["乡镇(街道)编码", "乡镇(街道)", "有平台", "运行站点数", "行政村", "社区", "村(社区)合计",
         "已覆盖", "覆盖率(%)", "全覆盖", "已走访", "未覆盖的村(社区)"]
    )  # fmt: skip
    for t in result.townships:
        writer.writerow(
            [t.code, t.name, "是" if t.has_platform else "否", t.stations, t.villages,
             t.communities, t.total, t.covered, f"{t.coverage_pct:.1f}",
             "是" if t.fully_covered else "否", t.visited,
             "、".join(u["name"] for u in t.uncovered)]
        )  # fmt: skip
    s = result.totals
    writer.writerow(
        ["", f"合计（截至 {as_of.isoformat()}）", f"{s.with_platform}/{s.townships}", "",
         s.villages, s.communities, s.total, s.covered, f"{s.coverage_pct:.1f}",
         "是" if s.total and s.covered == s.total else "否", s.visited, ""]
    )  # fmt: skip
    return Response(
        out.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="coverage-{as_of.isoformat()}.csv"',
        },
    )


@bp.route("/coverage/villages.geojson")
@login_required
def villages():
    """Return the villages in `bbox` with their coverage, for the page's village layer."""
    policy.require(current_user, "coverage.view")
    as_of, since = _period()
    bbox = parse_bbox(request.args.get("bbox"))
    tolerance = 0.0002
    if bbox:  # about a screen pixel at the view's width, never finer than ~2 m
        tolerance = max((bbox[2] - bbox[0]) / 2000, 0.00002)
    collection = queries.villages_with_status(as_of, since, bbox, tolerance)
    return collection


def register_routes(app: Flask) -> None:
    from fieldwatch.api import register_blueprint
    from fieldwatch.coverage.api import blp

    app.register_blueprint(bp)
    register_blueprint(app, blp)
