"""The place page: `/places?lon=&lat=&radius=`, a timeline of everything that happened there."""

from __future__ import annotations

from flask import Blueprint, Flask, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import escape

from fieldwatch import clock, policy
from fieldwatch.errors_core import NotFound, ValidationError
from fieldwatch.geo import lonlat_of, parse_lonlat
from fieldwatch.issues.services import get_issue
from fieldwatch.map import builders
from fieldwatch.map.basemap import wgs84_basemap
from fieldwatch.places import queries
from fieldwatch.places.timeline import place_history

bp = Blueprint("places", __name__, url_prefix="/places")

RADII = (50, 100, 200, 500)
COLOURS = {"issue": "#dc3545", "visit": "#6f42c1", "followup": "#198754"}


def _span(items) -> str | None:
    """'in two years' for the summary line: from the first event to today."""
    if not items or items[0]["at"] is None:
        return None
    days = (clock.today() - clock.local(items[0]["at"]).date()).days
    if days >= 365:
        return _("%(n)d 年内", n=max(1, round(days / 365)))
    if days >= 31:
        return _("%(n)d 个月内", n=max(1, round(days / 30)))
    return _("近 %(n)d 天内", n=max(1, days))


def _map(place):
    points = [
        {
            "lon": i["lon"],
            "lat": i["lat"],
            "colour": COLOURS[i["type"]],
            "tooltip": i["summary"],
            "popup": str(escape(i["summary"])),
        }
        for i in place.items
        if i["type"] != "followup"  # a look-back sits on its problem's point
    ]
    m = builders.place_map(
        place.lon,
        place.lat,
        place.radius_m,
        points,
        basemap=wgs84_basemap(),
    )
    return builders.embed(m, url_for("static", filename=""), g.csp_nonce)


@bp.route("")
@login_required
def history():
    """Show a place's timeline: problems, visits and look-backs, oldest first, with photos."""
    policy.require(current_user, "places.view")
    if request.args.get("issue"):
        try:
            issue = get_issue(request.args["issue"])
        except NotFound:
            issue = None
        if issue is not None and policy.can(current_user, "issues.view", issue):
            lon, lat = lonlat_of(issue.location)
            return redirect(url_for(".history", lon=f"{lon:.6f}", lat=f"{lat:.6f}"))
        return render_template("places/history.html", place=None, error=_("没有这个问题编号")), 404
    if not request.args.get("lon") and not request.args.get("lat"):
        return render_template("places/history.html", place=None, error=None)
    try:
        lon, lat = parse_lonlat(request.args.get("lon"), request.args.get("lat"))
    except ValidationError:
        error = _("坐标无效：经度 -180…180，纬度 -90…90")
        return render_template("places/history.html", place=None, error=error), 422
    try:
        radius = float(request.args.get("radius", queries.DEFAULT_RADIUS_M))
    except ValueError:
        radius = queries.DEFAULT_RADIUS_M
    radius = min(max(radius, 10), queries.MAX_RADIUS_M)
    place = place_history(current_user, lon, lat, radius, limit=500)
    return render_template(
        "places/history.html",
        place=place,
        error=None,
        span=_span(place.items),
        radii=RADII,
        map=_map(place),
        colours=COLOURS,
    )


def register_routes(app: Flask) -> None:
    app.register_blueprint(bp)
