"""Photo files under UPLOAD_FOLDER, named by content hash, written atomically.

Layout: `<UPLOAD_FOLDER>/<sha[:2]>/<sha>.<ext>` for the photo and
`<UPLOAD_FOLDER>/thumbs/<sha>.jpg` for its thumbnail. A file is written to a
temporary name in the same folder, fsynced and renamed into place *before*
the database row that references it is committed; if the transaction then
fails, the file is an orphan that `sweep_orphans()` removes (the server runs it
at start-up). Identical content is stored once, however many rows refer to it.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from fieldwatch.extensions import db

THUMBS = "thumbs"
_PHOTO_NAME = re.compile(r"^([0-9a-f]{64})\.(jpg|png|webp)$")
_THUMB_NAME = re.compile(r"^([0-9a-f]{64})\.jpg$")
_TEMP_PREFIX = ".tmp-"


def root() -> Path:
    """Return the upload folder (created if missing)."""
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def photo_relpath(sha256: str, ext: str) -> str:
    return f"{sha256[:2]}/{sha256}.{ext}"


def thumb_relpath(sha256: str) -> str:
    return f"{THUMBS}/{sha256}.jpg"


def photo_path(sha256: str, ext: str) -> Path:
    """Return where the photo with this hash lives."""
    return root() / photo_relpath(sha256, ext)


def thumb_path(sha256: str) -> Path:
    return root() / thumb_relpath(sha256)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` at `path` via temp file + fsync + rename; return False if already there."""
    if path.exists() and path.stat().st_size == len(data):
        # content-addressed: same name, same bytes; freshen it so a sweep running
        # now does not take it for an old orphan before our row commits
        os.utime(path)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)
    return True


def save(processed) -> None:
    """Write a processed photo and its thumbnail (before the row is committed)."""
    write_atomic(photo_path(processed.sha256, processed.ext), processed.data)
    write_atomic(thumb_path(processed.sha256), processed.thumb)


def referenced_hashes() -> set[str]:
    from fieldwatch.models import Photo

    return set(db.session.scalars(select(Photo.sha256).distinct()))


def sweep_orphans(min_age_seconds: float = 600) -> int:
    """Remove files (and stale temp files) no photos row refers to; return how many.

    Files younger than `min_age_seconds` are kept: another process may have
    written them for a transaction that has not committed yet.
    """
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    if not folder.is_dir():
        return 0
    known = referenced_hashes()
    cutoff = time.time() - min_age_seconds
    removed = 0
    for sub in folder.iterdir():
        if not sub.is_dir():
            continue
        pattern = _THUMB_NAME if sub.name == THUMBS else _PHOTO_NAME
        if sub.name != THUMBS and not re.fullmatch(r"[0-9a-f]{2}", sub.name):
            continue
        for path in sub.iterdir():
            try:
                if not path.is_file() or path.stat().st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue
            match = pattern.match(path.name)
            orphan = path.name.startswith(_TEMP_PREFIX) or (
                match is not None and match.group(1) not in known
            )
            if orphan:
                try:
                    path.unlink()
                    removed += 1
                except FileNotFoundError:
                    pass
    return removed
