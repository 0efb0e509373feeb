"""Look-back photos through the shared photo service (`fieldwatch.photos`).

Checks, EXIF, storage and URLs all belong to the photos area; this module only
adapts it for look-backs, and says so plainly when that area is not installed.
"""

from __future__ import annotations

import importlib

from flask import current_app
from sqlalchemy import select

from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db
from fieldwatch.models import Photo


def _service():
    try:
        return importlib.import_module("fieldwatch.photos.services")
    except ModuleNotFoundError as exc:
        if exc.name and "fieldwatch.photos.services".startswith(exc.name):
            return None
        raise


def enabled() -> bool:
    """Tell whether photos can be attached and shown (the photos area is installed)."""
    return _service() is not None and "photos.file" in current_app.view_functions


def attach(owner, file, uploader, client_id: str | None = None):
    """Attach one uploaded file to `owner` (a look-back); return (photo, created)."""
    service = _service()
    if not enabled():
        raise ValidationError("照片功能未安装 (photos are not available)", {"photo": ["未安装"]})
    return service.attach_photo(owner, file, uploader, client_id)


def attach_all(owner, files, uploader) -> list:
    """Attach every non-empty upload of a form field (no-JavaScript path)."""
    chosen = [f for f in (files or []) if f and getattr(f, "filename", "")]
    return [attach(owner, f, uploader)[0] for f in chosen]


def urls(photo: Photo) -> dict:
    if enabled():
        return _service().photo_urls(photo)
    return {"url": None, "thumb_url": None}


def listed(owner) -> list[dict]:
    """Return `[{id, url, thumb_url, taken_at}]` for an issue's or a look-back's photos."""
    if owner is None:
        return []
    column = Photo.followup_id if owner.__tablename__ == "followups" else Photo.issue_id
    photos = db.session.scalars(select(Photo).where(column == owner.id).order_by(Photo.id))
    return [{"id": p.id, "taken_at": p.taken_at, **urls(p)} for p in photos]
