"""A visit as JSON (the API) and as rows for the pages: one shape, one place."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from fieldwatch.extensions import db
from fieldwatch.geo import lonlat_of
from fieldwatch.models import Area, Issue, Station, Unit, User, Visit
from fieldwatch.visits.queries import route_of

FORM_NAMES = {
    "on_site": _l("现场协商"),
    "meeting": _l("会场协商"),
    "online": _l("网络协商"),
    "written": _l("书面协商"),
    "inspection": _l("视察调研"),
}
STATUS_NAMES = {"planned": _l("计划中"), "held": _l("已举行"), "cancelled": _l("已取消")}


def _names(model, ids) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


class Lookup:
    """The rows a page of visits refers to, fetched in a few queries (not per visit)."""

    def __init__(self, visits: list[Visit]):
        stops = [s for v in visits for s in v.stops]
        self.issues = _names(Issue, (s.issue_id for s in stops))
        self.areas = _names(
            Area,
            [s.area_id for s in stops]
            + [s.township_id for s in stops]
            + [v.township_id for v in visits],
        )
        self.users = _names(User, (v.leader_id for v in visits))
        self.stations = _names(Station, (v.station_id for v in visits))


def stop_rows(visit: Visit, lookup: Lookup | None = None, route: dict | None = None) -> list[dict]:
    """Return the visit's stops in order with their problem, village and township."""
    stops = sorted(visit.stops, key=lambda s: s.position)
    lookup = lookup or Lookup([visit])
    issues, areas = lookup.issues, lookup.areas
    route = (route or route_of(visit))["stops"]
    rows = []
    for stop, leg in zip(stops, route, strict=True):
        issue = issues.get(stop.issue_id)
        village, township = areas.get(stop.area_id), areas.get(stop.township_id)
        lon, lat = lonlat_of(stop.location)
        rows.append(
            {
                "id": stop.id,
                "position": stop.position,
                "number": stop.position + 1,
                "issue_id": stop.issue_id,
                "ref": issue.ref if issue else None,
                "title": issue.title if issue else (stop.label or "自选地点"),
                "status": issue.status if issue else None,
                "address": issue.address if issue else None,
                "label": stop.label,
                "lon": lon,
                "lat": lat,
                "village": village.name if village else None,
                "village_code": village.code if village else None,
                "township": township.name if township else None,
                "township_code": township.code if township else None,
                "km_from_previous": leg["km_from_previous"],
            }
        )
    return rows


def visit_items(visits: list[Visit]) -> list[dict]:
    """Return a page of visits as the API gives them."""
    lookup = Lookup(visits)
    return [visit_item(v, lookup) for v in visits]


def visit_item(visit: Visit, lookup: Lookup | None = None) -> dict:
    """Return the visit as the API gives it (DESIGN.md's `route` included)."""
    lookup = lookup or Lookup([visit])
    leader = lookup.users.get(visit.leader_id)
    station = lookup.stations.get(visit.station_id)
    township = lookup.areas.get(visit.township_id)
    start = lonlat_of(visit.start_location) if visit.start_location is not None else None
    route = route_of(visit)
    stops = stop_rows(visit, lookup, route)
    for row in stops:
        row.pop("number")
    return {
        "id": visit.id,
        "title": visit.title,
        "form": visit.form,
        "status": visit.status,
        "planned_for": visit.planned_for.isoformat() if visit.planned_for else None,
        "held_on": visit.held_on.isoformat() if visit.held_on else None,
        "leader_id": visit.leader_id,
        "leader": leader.name if leader else None,
        "station_id": visit.station_id,
        "station": station.name if station else None,
        "township_code": township.code if township else None,
        "township": township.name if township else None,
        "participants": participants_of(visit),
        "start": {"lon": start[0], "lat": start[1], "label": visit.start_label} if start else None,
        "issue_ids": [s["issue_id"] for s in stops if s["issue_id"] is not None],
        "stops": stops,
        "route": route,
        "attendance": visit.attendance,
        "opinions": visit.opinions,
        "actions": visit.actions,
        "cancel_reason": visit.cancel_reason,
        "created_at": visit.created_at.isoformat() if visit.created_at else None,
        "updated_at": visit.updated_at.isoformat() if visit.updated_at else None,
        "url": url_for("visits.detail", visit_id=visit.id, _external=True)
        if _has_pages()
        else None,
    }


def participants_of(visit: Visit) -> dict:
    """Return the participants as stored: {members: [ids], units: [codes], residents: n}."""
    value = visit.participants or {}
    return {
        "members": list(value.get("members") or []),
        "units": list(value.get("units") or []),
        "residents": int(value.get("residents") or 0),
    }


def participant_names(visit: Visit) -> dict:
    """Return the participants by name, for the pages."""
    value = participants_of(visit)
    users = _names(User, value["members"])
    units = {
        u.code: u.name
        for u in db.session.scalars(select(Unit).where(Unit.code.in_(value["units"] or [""])))
    }
    return {
        "members": [users[i].name for i in value["members"] if i in users],
        "units": [units.get(code, code) for code in value["units"]],
        "residents": value["residents"],
    }


def _has_pages() -> bool:
    from flask import current_app

    return "visits.detail" in current_app.view_functions
