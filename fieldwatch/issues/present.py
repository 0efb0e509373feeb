"""How an issue looks to the outside: GeoJSON Features for the API, words for the pages.

Personal data (the reporter's name, a resident's name and phone) appears only for
users the policy allows (`issues.view_contact`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import url_for
from flask_babel import lazy_gettext as _l

from fieldwatch import clock, policy
from fieldwatch.geo import lonlat_of
from fieldwatch.issues.queries import UNANSWERED

STATUS_LABELS = {
    "reported": _l("已上报"),
    "accepted": _l("已立项"),
    "in_progress": _l("办理中"),
    "resolved": _l("已办结"),
    "closed": _l("已销号"),
    "rejected": _l("不予立项"),
    "duplicate": _l("重复"),
}
STATUS_BADGES = {
    "reported": "text-bg-secondary",
    "accepted": "text-bg-info",
    "in_progress": "text-bg-primary",
    "resolved": "text-bg-success",
    "closed": "text-bg-dark",
    "rejected": "text-bg-light border",
    "duplicate": "text-bg-light border",
}
ANSWER_LABELS = {
    "A": _l("A 类：已解决或采纳"),
    "B": _l("B 类：正在解决或已列入计划"),
    "C": _l("C 类：暂不能解决，已说明"),
}
SOURCE_LABELS = {"gps": _l("手机定位"), "exif": _l("照片位置"), "manual": _l("手动选点")}
MOVE_LABELS = {
    "report": _l("上报"),
    "accept": _l("立项"),
    "assign": _l("交办"),
    "reassign": _l("转办"),
    "resolve": _l("办结答复"),
    "reject": _l("不予立项"),
    "duplicate": _l("标为重复"),
    "close_after_lookback": _l("回头看后销号"),
    "close_class_c": _l("C 类销号"),
    "reopen": _l("回头看后重新办理"),
}


def is_overdue(issue, today=None) -> bool:
    today = today or clock.today()
    return issue.status in UNANSWERED and issue.due_on is not None and issue.due_on < today


def _iso(value):
    """ISO 8601; instants always in UTC, whatever offset they arrived with."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat() if value is not None else None


def photo_list(issue) -> list[dict]:
    from fieldwatch.photos.services import photo_urls

    return [{"id": p.id, **photo_urls(p), "taken_at": _iso(p.taken_at)} for p in issue.photos]


def issue_properties(issue, user, *, photos: bool = True, first_photo: int | None = None) -> dict:
    """Return an issue's properties as the API shows them to `user`."""
    from fieldwatch.photos.services import photo_urls

    props = {
        "id": issue.id,
        "ref": issue.ref,
        "title": issue.title,
        "description": issue.description,
        "status": issue.status,
        "priority": issue.priority,
        "category": issue.category.code if issue.category else None,
        "category_name": issue.category.name if issue.category else None,
        "village_code": issue.area.code if issue.area else None,
        "village_name": issue.area.name if issue.area else None,
        "township_code": issue.township.code if issue.township else None,
        "township_name": issue.township.name if issue.township else None,
        "address": issue.address,
        "accuracy_m": issue.accuracy_m,
        "location_source": issue.location_source,
        "source": issue.source,
        "unit": issue.unit.code if issue.unit else None,
        "unit_name": issue.unit.name if issue.unit else None,
        "due_on": _iso(issue.due_on),
        "overdue": is_overdue(issue),
        "answer_class": issue.answer_class,
        "duplicate_of": issue.duplicate_of_id,
        "reopen_count": issue.reopen_count or 0,
        "observed_at": _iso(issue.observed_at),
        "created_at": _iso(issue.created_at),
        "updated_at": _iso(issue.updated_at),
        "accepted_at": _iso(issue.accepted_at),
        "resolved_at": _iso(issue.resolved_at),
        "closed_at": _iso(issue.closed_at),
        "url": url_for("issues.detail", issue_id=issue.ref),
    }
    if photos:
        props["photos"] = photo_list(issue)
        props["thumb_url"] = props["photos"][0]["thumb_url"] if props["photos"] else None
    else:
        props["thumb_url"] = photo_urls(first_photo)["thumb_url"] if first_photo else None
    if policy.can(user, "issues.view_contact", issue):
        props["reporter"] = issue.reporter.name if issue.reporter else None
        props["contact_name"] = issue.contact_name
        props["contact_phone"] = issue.contact_phone
    return props


def feature(issue, user, **options) -> dict:
    """Return an issue as a GeoJSON Feature (RFC 7946: lon, lat)."""
    lon, lat = lonlat_of(issue.location)
    return {
        "type": "Feature",
        "id": issue.id,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": issue_properties(issue, user, **options),
    }


def near_item(row) -> dict:
    """Return one row of `queries.issues_near` as {id, ref, title, status, distance_m, thumb_url}."""
    from fieldwatch.photos.services import photo_urls

    return {
        "id": row.id,
        "ref": row.ref,
        "title": row.title,
        "status": row.status,
        "distance_m": round(float(row.distance_m), 1),
        "thumb_url": photo_urls(row.photo_id)["thumb_url"] if row.photo_id else None,
    }


def near_feature(row) -> dict:
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": {**near_item(row), "url": url_for("issues.detail", issue_id=row.ref)},
    }


def event_item(event, user, issue) -> dict:
    """Return a timeline event; the reporter's name only for those who may see contacts."""
    actor = event.actor
    show_name = actor is not None and (
        actor.id != issue.reporter_id or policy.can(user, "issues.view_contact", issue)
    )
    move = (event.data or {}).get("move")
    return {
        "id": event.id,
        "kind": event.kind,
        "move": move,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "actor": actor.name if show_name else None,
        "actor_role": actor.role if actor is not None else None,
        "at": _iso(event.created_at),
        "data": {k: v for k, v in (event.data or {}).items() if k != "move"},
    }
