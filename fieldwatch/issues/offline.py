"""`/sw.js`: the service worker that keeps field pages and their assets on the device.

Served from the site root so that its scope is the whole site. The version in it
is a hash of the static scripts and styles, so a release with new assets makes
browsers install a fresh cache. Areas with pages people open in the field add
their path prefixes to OFFLINE_PAGES (or `app.config["OFFLINE_PAGES"]`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, url_for

bp = Blueprint("offline", __name__)

#: pages kept for use with no signal (path prefixes)
OFFLINE_PAGES = ["/issues/new", "/followups/"]
#: assets the report form needs, fetched when the worker installs
PRECACHE_STATIC = [
    "vendor/bootstrap/css/bootstrap.min.css",
    "vendor/bootstrap/js/bootstrap.bundle.min.js",
    "vendor/fontawesome-free/css/all.min.css",
    "vendor/fontawesome-free/webfonts/fa-solid-900.woff2",
    "vendor/fontawesome-free/webfonts/fa-regular-400.woff2",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/images/marker-icon.png",
    "vendor/leaflet/images/marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png",
    "css/app.css",
    "css/issues.css",
    "js/offline-queue.js",
    "js/fw-map.js",
    "js/exif-gps.js",
    "js/issue-form.js",
    "js/lookback-record.js",
]


def _version(static: Path) -> str:
    digest = hashlib.sha256()
    for name in sorted(PRECACHE_STATIC):
        path = static / name
        if path.is_file():
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update((static / "js" / "sw.js").read_bytes())
    return digest.hexdigest()[:12]


@bp.route("/sw.js")
def service_worker():
    """Send the service worker with its version and the lists of what to keep."""
    static = Path(current_app.static_folder)
    pages = OFFLINE_PAGES + list(current_app.config.get("OFFLINE_PAGES", []))
    precache = [url_for("static", filename=name) for name in PRECACHE_STATIC]
    if "issues.new" in current_app.view_functions:
        precache.append(url_for("issues.new"))
    source = (static / "js" / "sw.js").read_text(encoding="utf-8")
    source = (
        source.replace("__VERSION__", _version(static))
        .replace("__PRECACHE__", json.dumps(precache))
        .replace("__OFFLINE_PAGES__", json.dumps(pages))
    )
    response = Response(source, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


def register(app: Flask) -> None:
    app.register_blueprint(bp)
