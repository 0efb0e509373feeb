"""Pages of the station register: list with filters, detail, and the admin's form."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from fieldwatch import clock, policy
from fieldwatch.areas import queries as areas
from fieldwatch.extensions import db
from fieldwatch.forms import submit
from fieldwatch.geo import lonlat_of
from fieldwatch.map import builders
from fieldwatch.map.basemap import wgs84_basemap
from fieldwatch.models import Station, User
from fieldwatch.models.places import FIVE_HAVES, STATION_KINDS
from fieldwatch.stations import labels, queries, services
from fieldwatch.stations.forms import StationForm

bp = Blueprint("stations", __name__, url_prefix="/stations")
PAGE_SIZE = 50
#: which form field shows a service error about each key
ERROR_FIELDS = {"members": "member_ids", "five_haves": "venue"}


def _embed(m):
    return builders.embed(m, url_for("static", filename=""), getattr(g, "csp_nonce", ""))


def _tiles():
    """The base map of the stations' folium maps."""
    return wgs84_basemap()


def _filters() -> queries.StationFilter:
    args = request.args
    status = args.get("status", "all")
    return queries.StationFilter(
        township=args.get("township") or None,
        kind=args.get("kind") if args.get("kind") in STATION_KINDS else None,
        tier=args.get("tier") if args.get("tier") in queries.TIERS else None,
        status=status if status in ("open", "closed", "all") else "all",
        incomplete=args.get("incomplete") == "1",
        q=(args.get("q") or "").strip() or None,
    )


@bp.route("/")
@login_required
def index():
    """List stations with filters, badges and a map of the listed ones."""
    policy.require(current_user, "stations.view")
    filters, today = _filters(), clock.today()
    page = max(request.args.get("page", 1, type=int), 1)
    rows = queries.list_stations(filters, today, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    features = [queries.station_feature(r, today) for r in rows]
    parts = None
    if features:
        points = [
            {
                "lon": f["geometry"]["coordinates"][0],
                "lat": f["geometry"]["coordinates"][1],
                "name": f["properties"]["name"],
                "url": url_for(".detail", station_id=f["id"]),
                "tier": f["properties"]["tier"],
                "open": f["properties"]["status"] == "open",
            }
            for f in features
        ]
        parts = _embed(builders.stations_map(points, basemap=_tiles()))
    townships = areas.list_areas(level="township", limit=5000)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "stations/index.html",
        stations=features,
        filters=filters,
        townships=townships,
        labels=labels,
        map_parts=parts,
        page=page,
        prev_url=url_for(".index", **args, page=page - 1) if page > 1 else None,
        next_url=url_for(".index", **args, page=page + 1) if more else None,
    )


@bp.route("/<int:station_id>")
@login_required
def detail(station_id: int):
    """Show a station: its place, the five haves, people, and the villages it serves."""
    policy.require(current_user, "stations.view")
    station = db.session.get(Station, station_id)
    if station is None:
        abort(404)
    row = queries.station_row(station_id)
    feature = queries.station_feature(row, clock.today(), members=list(station.members))
    served = queries.served_places(station_id)
    lon, lat = feature["geometry"]["coordinates"]
    m = builders.station_map(
        lon, lat, station.name, queries.as_collection(served), basemap=_tiles()
    )
    return render_template(
        "stations/detail.html",
        station=feature,
        served=served,
        labels=labels,
        map_parts=_embed(m),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Register a station (admins)."""
    policy.require(current_user, "stations.edit")
    form = StationForm()
    _choices(form)
    if request.method == "GET":
        form.venue.data = form.signage.data = form.rules.data = True

    def save():
        values = _values(form)
        return services.create_station(
            values.pop("name"), values.pop("kind"), values.pop("lon"), values.pop("lat"), **values
        )

    done = submit(form, save, ERROR_FIELDS)
    if done:
        flash(_("站点已登记。"), "success")
        return redirect(url_for(".detail", station_id=done.value.id))
    form.name.errors = [*form.name.errors, *done.problems]
    return _form_page(form, None)


@bp.route("/<int:station_id>/edit", methods=["GET", "POST"])
@login_required
def edit(station_id: int):
    """Edit a station (admins)."""
    policy.require(current_user, "stations.edit")
    station = db.session.get(Station, station_id)
    if station is None:
        abort(404)
    form = StationForm()
    _choices(form)
    if request.method == "GET":
        _fill(form, station)
        return _form_page(form, station_id)
    done = submit(form, lambda: services.update_station(station, **_values(form)), ERROR_FIELDS)
    if done:
        flash(_("站点已保存。"), "success")
        return redirect(url_for(".detail", station_id=station_id))
    form.name.errors = [*form.name.errors, *done.problems]
    return _form_page(form, station_id)


def _form_page(form: StationForm, station_id: int | None):
    lon, lat = form.lon.data, form.lat.data
    outlines = queries.as_collection(areas.outlines("township", tolerance=0.001))
    m = builders.pin_map(lon, lat, areas.extent("township"), _tiles(), outlines)
    count = len(form.member_ids.data or [])
    warn = request.method == "POST" or station_id is not None
    status = 422 if any(field.errors for field in form) else 200
    return (
        render_template(
            "stations/form.html",
            form=form,
            station_id=station_id,
            map_parts=_embed(m),
            member_warning=services.member_warning(count) if warn else None,
        ),
        status,
    )


def _choices(form: StationForm) -> None:
    villages = queries.village_choices()
    form.village_code.choices = [("", _("按位置自动判断"))] + [
        (v.code, f"{v.name} · {v.township_name or ''} ({v.code})") for v in villages
    ]
    groups: dict[str, list] = {}
    for v in villages:
        groups.setdefault(v.township_name or "—", []).append((v.code, f"{v.name} ({v.code})"))
    form.serves.choices = groups
    members = db.session.scalars(
        select(User).where(User.role == "member", User.active.is_(True)).order_by(User.name)
    ).all()
    form.member_ids.choices = [
        (u.id, f"{u.name}" + (f" · {u.sector}" if u.sector else "")) for u in members
    ]


def _fill(form: StationForm, station: Station) -> None:
    lon, lat = lonlat_of(station.location)
    form.name.data, form.kind.data = station.name, station.kind
    form.lon.data, form.lat.data = lon, lat
    form.address.data = station.address
    form.village_code.data = (
        station.area.code if station.area is not None and station.area.level == "village" else ""
    )
    form.serves.data = [a.code for a in station.serves]
    for key in FIVE_HAVES:
        form[key].data = getattr(station, f"has_{key}")
    form.established_on.data, form.closed_on.data = station.established_on, station.closed_on
    form.convener.data = station.convener
    form.member_ids.data = [u.id for u in station.members]
    form.local_members.data = station.local_members


def _values(form: StationForm) -> dict:
    return {
        "name": form.name.data,
        "kind": form.kind.data,
        "lon": form.lon.data,
        "lat": form.lat.data,
        "address": form.address.data or None,
        "village_code": form.village_code.data or None,
        # nothing chosen: the default (a village-tier station serves its own village)
        "serves": list(form.serves.data) or None,
        "five_haves": {key: bool(form[key].data) for key in FIVE_HAVES},
        "established_on": form.established_on.data,
        "closed_on": form.closed_on.data,
        "convener": form.convener.data or None,
        "member_ids": list(form.member_ids.data or []),
        "local_members": form.local_members.data or None,
    }


def register_routes(app: Flask) -> None:
    from fieldwatch.api import register_blueprint
    from fieldwatch.stations.api import blp

    app.register_blueprint(bp)
    register_blueprint(app, blp)
