"""A place's history as items for the page and the API: words, links, photos, visibility."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from fieldwatch import policy
from fieldwatch.extensions import db
from fieldwatch.followups import photos as followup_photos
from fieldwatch.followups.forms import FINDING_LABELS
from fieldwatch.issues.present import STATUS_LABELS
from fieldwatch.models import Followup, Photo, Visit
from fieldwatch.places import queries


@dataclass
class Place:
    lon: float
    lat: float
    radius_m: float
    items: list[dict]
    more: bool

    def count(self, kind: str) -> int:
        return sum(1 for i in self.items if i["type"] == kind)


def _summary(row) -> str:
    if row.type == "issue":
        status = STATUS_LABELS.get(row.status, row.status)
        return _(
            "问题 %(ref)s %(title)s（%(status)s）", ref=row.ref, title=row.title, status=status
        )
    if row.type == "visit":
        return _("走访：%(title)s", title=row.title)
    where = _("现场") if row.on_site else _("非现场")
    finding = FINDING_LABELS.get(row.finding, row.finding)
    if row.ref:
        return _(
            "回头看 %(ref)s：%(finding)s（%(where)s）", ref=row.ref, finding=finding, where=where
        )
    return _("走访事项回头看：%(finding)s（%(where)s）", finding=finding, where=where)


def _url(row) -> str | None:
    if row.type == "followup":
        return url_for("followups.record", followup_id=row.id, _external=True)
    if row.type == "issue" and "issues.detail" in current_app.view_functions:
        return url_for("issues.detail", issue_id=row.id, _external=True)
    if row.type == "visit" and "visits.detail" in current_app.view_functions:
        return url_for("visits.detail", visit_id=row.id, _external=True)
    return None


def _photos(rows) -> dict[tuple[str, int], list[dict]]:
    """Photos of the issues and look-backs listed, in one query."""
    issue_ids = [r.id for r in rows if r.type == "issue"]
    followup_ids = [r.id for r in rows if r.type == "followup"]
    found: dict[tuple[str, int], list[dict]] = defaultdict(list)
    if not issue_ids and not followup_ids:
        return found
    query = (
        select(Photo)
        .where(Photo.issue_id.in_(issue_ids or [-1]) | Photo.followup_id.in_(followup_ids or [-1]))
        .order_by(Photo.id)
    )
    for photo in db.session.scalars(query):
        key = ("issue", photo.issue_id) if photo.issue_id else ("followup", photo.followup_id)
        found[key].append({"id": photo.id, **followup_photos.urls(photo)})
    return found


def _visible(user, rows) -> list:
    """Drop the visits and visit look-backs the user may not see (issues are scoped in SQL)."""
    visit_ids = {r.id for r in rows if r.type == "visit"}
    followup_ids = {r.id for r in rows if r.type == "followup" and r.ref is None}
    visits = (
        {v.id: v for v in db.session.scalars(select(Visit).where(Visit.id.in_(visit_ids)))}
        if visit_ids
        else {}
    )
    followups = (
        {f.id: f for f in db.session.scalars(select(Followup).where(Followup.id.in_(followup_ids)))}
        if followup_ids
        else {}
    )
    out = []
    for row in rows:
        if row.type == "visit" and not policy.can(user, "visits.view", visits.get(row.id)):
            continue
        if row.id in followup_ids and row.type == "followup":
            if not policy.can(user, "followups.view", followups.get(row.id)):
                continue
        out.append(row)
    return out


def place_history(
    user, lon: float, lat: float, radius_m: float, limit: int = 200, offset: int = 0
) -> Place:
    """Return what `user` may see of a place's history."""
    unit = user.unit_id if user.role == "unit" else None
    rows, more = queries.history(
        lon,
        lat,
        radius_m,
        scope_township=user.township_id,
        scope_unit=unit,
        with_visits=policy.can(user, "visits.view"),
        tz=current_app.config["FIELDWATCH_TIMEZONE"],
        limit=limit,
        offset=offset,
    )
    rows = _visible(user, rows)
    pictures = _photos(rows)
    items = [
        {
            "type": r.type,
            "id": r.id,
            "at": r.at,
            "summary": _summary(r),
            "ref": r.ref,
            "title": r.title,
            "status": r.status,
            "finding": r.finding,
            "on_site": r.on_site,
            "kind": r.kind,
            "issue_id": r.issue_id,
            "lon": r.lon,
            "lat": r.lat,
            "distance_m": round(r.distance_m, 1) if r.distance_m is not None else None,
            "url": _url(r),
            "photos": pictures.get((r.type, r.id), []),
        }
        for r in rows
    ]
    return Place(lon, lat, radius_m, items, more)
