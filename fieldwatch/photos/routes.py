"""`GET /photos/<id>` and `/photos/<id>/thumb`: a photo file for whoever may see its owner."""

from __future__ import annotations

from flask import Blueprint, Flask, send_file
from flask_login import current_user, login_required

from fieldwatch.errors_core import NotFound
from fieldwatch.photos import services, storage

bp = Blueprint("photos", __name__, url_prefix="/photos")

#: content-addressed: a photo's bytes never change, so browsers may keep it a year;
#: private, because each copy was access-checked for this user
CACHE = "private, max-age=31536000, immutable"


def _send(path, mimetype: str, etag: str):
    if not path.is_file():
        raise NotFound("照片文件不存在 (photo file missing)")
    response = send_file(path, mimetype=mimetype, etag=etag, conditional=True)
    response.headers["Cache-Control"] = CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


def _visible(photo_id: int):
    photo = services.get_photo(photo_id)
    if not services.can_view(current_user, photo):
        raise NotFound("没有这张照片 (no such photo)")  # do not tell it exists
    return photo


@bp.route("/<int:photo_id>")
@login_required
def file(photo_id: int):
    """Send the photo (cleaned of EXIF) with its own Content-Type."""
    photo = _visible(photo_id)
    return _send(storage.photo_path(photo.sha256, photo.ext), photo.content_type, photo.sha256)


@bp.route("/<int:photo_id>/thumb")
@login_required
def thumb(photo_id: int):
    """Send the photo's ~320 px JPEG thumbnail."""
    photo = _visible(photo_id)
    return _send(storage.thumb_path(photo.sha256), "image/jpeg", f"t-{photo.sha256}")


def register_routes(app: Flask) -> None:
    app.register_blueprint(bp)
