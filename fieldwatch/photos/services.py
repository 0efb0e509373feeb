"""Attach photos to issues, visits and look-backs; find them; say who may see them.

The callers (issue, visit and look-back faces) decide whether the uploader may
add a photo to that owner; this module checks the file, stores it and writes
the row. See `fieldwatch.photos` for the whole API.
"""

from __future__ import annotations

import re

from flask import current_app, url_for
from sqlalchemy import select

from fieldwatch import clock, policy
from fieldwatch.errors_core import Conflict, NotFound, ValidationError
from fieldwatch.extensions import db
from fieldwatch.geo import point_element
from fieldwatch.models import Followup, Issue, Photo, Visit
from fieldwatch.photos import processing, storage
from fieldwatch.replay import insert_once

CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")

#: owner model -> (Photo foreign key attribute, policy action that lets a user see it)
OWNERS = {
    Issue: ("issue_id", "issues.view"),
    Visit: ("visit_id", "visits.view"),
    Followup: ("followup_id", "followups.view"),
}


def _owner_key(owner) -> tuple[str, str]:
    for model, key in OWNERS.items():
        if isinstance(owner, model):
            return key
    raise TypeError(f"photos belong to an issue, a visit or a look-back, not {owner!r}")


def max_bytes() -> int:
    """Return the size limit of one photo (MAX_PHOTO_BYTES, default 15 MB)."""
    return int(current_app.config.get("MAX_PHOTO_BYTES") or processing.DEFAULT_MAX_BYTES)


def read_upload(file) -> bytes:
    """Return the bytes of an upload (FileStorage, file object or bytes), refusing oversize early."""
    limit = max_bytes()
    if file is None:
        raise ValidationError("请选择照片 (choose a photo)", {"photo": ["请选择照片 (required)"]})
    if isinstance(file, bytes | bytearray | memoryview):
        raw = bytes(file)
    else:
        stream = getattr(file, "stream", file)
        raw = stream.read(limit + 1)
    processing.check_size(len(raw), limit)
    return raw


def _check_client_id(client_id: str | None) -> str | None:
    if client_id in (None, ""):
        return None
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise ValidationError(
            "client_id 无效",
            {"client_id": ["8–64 个字母、数字或 - _ . : (8–64 letters, digits, - _ . :)"]},
        )
    return client_id


def _replay(existing: Photo, owner, uploader) -> Photo:
    fk, _ = _owner_key(owner)
    same_owner = getattr(existing, fk) == owner.id
    if existing.uploader_id != getattr(uploader, "id", None) or not same_owner:
        raise Conflict(
            "client_id 已被使用 (client_id already used)", {"client_id": ["已被使用 (in use)"]}
        )
    return existing


def attach_photo(owner, file, uploader, client_id: str | None = None) -> tuple[Photo, bool]:
    """Check, clean and store a photo for `owner` (Issue, Visit or Followup); return (photo, created).

    Raises ValidationError (field `photo`) for a wrong type, a fake or damaged
    file, or one over MAX_PHOTO_BYTES. The same `client_id` from the same
    uploader for the same owner returns the original (created False); from
    anyone else, or for another owner, Conflict. The file is on disk when this
    returns; the row is only flushed, so the caller's commit makes it count.
    """
    fk, _ = _owner_key(owner)
    client_id = _check_client_id(client_id)
    if client_id:
        existing = db.session.scalar(select(Photo).where(Photo.client_id == client_id))
        if existing is not None:
            return _replay(existing, owner, uploader), False
    raw = read_upload(file)
    processed = processing.process(raw, max_bytes(), clock.zone())
    storage.save(processed)
    lonlat = processed.exif_lonlat
    photo = Photo(
        sha256=processed.sha256,
        ext=processed.ext,
        content_type=processed.content_type,
        size=len(processed.data),
        width=processed.width,
        height=processed.height,
        taken_at=processed.taken_at,
        exif_location=point_element(*lonlat) if lonlat else None,
        client_id=client_id,
        uploader_id=getattr(uploader, "id", None),
        created_at=clock.now(),
    )
    setattr(photo, fk, owner.id)
    existing = insert_once(photo, Photo)
    if existing is not None:
        return _replay(existing, owner, uploader), False
    return photo, True


def photos_of(owner) -> list[Photo]:
    """Return the photos of an issue, visit or look-back, oldest first."""
    fk, _ = _owner_key(owner)
    column = getattr(Photo, fk)
    return list(db.session.scalars(select(Photo).where(column == owner.id).order_by(Photo.id)))


def get_photo(photo_id: int) -> Photo:
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        raise NotFound("没有这张照片 (no such photo)")
    return photo


def owner_of(photo: Photo):
    """Return the issue, visit or look-back the photo belongs to."""
    if photo.issue_id is not None:
        return db.session.get(Issue, photo.issue_id)
    if photo.visit_id is not None:
        return db.session.get(Visit, photo.visit_id)
    return db.session.get(Followup, photo.followup_id)


def can_view(user, photo: Photo) -> bool:
    """Tell whether `user` may see the photo: whoever may see its owner."""
    owner = owner_of(photo)
    if owner is None:
        return False
    _, action = _owner_key(owner)
    return policy.can(user, action, owner)


def photo_urls(photo: Photo | int) -> dict:
    """Return {"url", "thumb_url"} (site-relative) for a photo or a photo id."""
    photo_id = photo if isinstance(photo, int) else photo.id
    return {
        "url": url_for("photos.file", photo_id=photo_id),
        "thumb_url": url_for("photos.thumb", photo_id=photo_id),
    }


def describe(photo: Photo) -> dict:
    """Return a photo as JSON-ready data: id, urls, size, taken_at, exif point."""
    from fieldwatch.geo import lonlat_of

    point = lonlat_of(photo.exif_location)
    return {
        "id": photo.id,
        **photo_urls(photo),
        "content_type": photo.content_type,
        "size": photo.size,
        "width": photo.width,
        "height": photo.height,
        "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
        "exif_lon": point[0] if point else None,
        "exif_lat": point[1] if point else None,
    }
