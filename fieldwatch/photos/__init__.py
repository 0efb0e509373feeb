"""Photos of problems, visits and look-backs: checked, cleaned, stored, served.

Used by every area that takes pictures. The API, stable for other areas:

``fieldwatch.photos.services``
    ``attach_photo(owner, file, uploader, client_id=None) -> (Photo, created)``
        `owner` is an Issue, a Visit or a Followup (the matching foreign key is
        set); `file` a werkzeug FileStorage, a file object or bytes. The file is
        checked by content (JPEG, PNG, WebP only; at most
        ``app.config["MAX_PHOTO_BYTES"]``, default 15 MB; fakes and damaged
        files refused), its EXIF GPS point and DateTimeOriginal are kept on the
        row (``exif_location``, ``taken_at``), then it is re-encoded without any
        metadata (orientation applied) and a ~320 px thumbnail is made. Errors:
        ``ValidationError`` with field ``photo`` (422) or ``client_id``;
        ``Conflict`` (409) when the `client_id` was used by someone else or for
        another owner; the same uploader repeating it gets ``(original, False)``.
        Files are on disk on return; the row is flushed, not committed: the
        caller commits once (all or nothing). The caller checks that the
        uploader may add photos to that owner (e.g. ``issues.add_photo``).
    ``photos_of(owner) -> list[Photo]``, ``get_photo(id)``, ``owner_of(photo)``
    ``can_view(user, photo)``: whoever may view the owner (issues.view,
        visits.view, followups.view).
    ``photo_urls(photo or id) -> {"url", "thumb_url"}``; ``describe(photo) -> dict``
    ``max_bytes()``
``fieldwatch.photos.processing``
    ``process(raw, max_bytes, zone) -> ProcessedPhoto`` (pure; no database).
``fieldwatch.photos.storage``
    ``uploads/<sha[:2]>/<sha>.<ext>`` and ``uploads/thumbs/<sha>.jpg``, written
    atomically; ``sweep_orphans(min_age_seconds=600) -> int`` (run at start-up).

Routes (blueprint ``photos``): ``GET /photos/<id>`` (``photos.file``) and
``GET /photos/<id>/thumb`` (``photos.thumb``), signed in, access-checked
through the owner (404 otherwise), ``X-Content-Type-Options: nosniff`` and
long private caching, since a photo's bytes never change.
"""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.photos.routes import register_routes

    register_routes(app)
