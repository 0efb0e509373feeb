"""Settings from FIELDWATCH_* environment variables, with sane defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def instance_path(value: str | None = None) -> Path:
    """Return the absolute instance folder (FIELDWATCH_INSTANCE, default ./instance)."""
    return Path(value or os.environ.get("FIELDWATCH_INSTANCE") or "instance").resolve()


def _secret_key(folder: Path) -> str:
    """Read the instance's secret key, generating it once (mode 0600)."""
    path = folder / "secret_key"
    if path.exists():
        return path.read_text().strip()
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"FIELDWATCH_{name}", default)


def from_environment() -> dict:
    """Build the Flask config mapping from the environment."""
    folder = instance_path()
    database_url = _env("DATABASE_URL")
    if not database_url:
        from fieldwatch import pg

        database_url = pg.database_url(folder)
    return {
        "INSTANCE": str(folder),
        "SECRET_KEY": _env("SECRET_KEY") or _secret_key(folder),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # no pre-ping (a round trip per request): fieldwatch.pool checks the socket instead
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800},
        "FIELDWATCH_TIMEZONE": _env("TIMEZONE", "Asia/Shanghai"),
        "UPLOAD_FOLDER": str(folder / "uploads"),
        "MAX_PHOTO_BYTES": int(_env("MAX_PHOTO_MB", "15")) * 1024 * 1024,
        "MAX_CONTENT_LENGTH": (int(_env("MAX_PHOTO_MB", "15")) * 4 + 2) * 1024 * 1024,
        "ONSITE_DISTANCE_M": float(_env("ONSITE_DISTANCE_M", "200")),
        #: days after a problem ends before its resident's contact is erased (PIPL)
        "CONTACT_RETENTION_DAYS": int(_env("CONTACT_RETENTION_DAYS", "365")),
        "BASEMAP": _env("BASEMAP", ""),
        "TIANDITU_KEY": _env("TIANDITU_KEY", ""),
        "TILE_URL": _env("TILE_URL", ""),
        "PUBLIC_LAYERS": _env("PUBLIC_LAYERS", "") == "1",
        "SESSION_COOKIE_SECURE": _env("SECURE_COOKIES", "") == "1",
        #: behind a reverse proxy on this machine: trust its X-Forwarded-For/-Proto/-Host
        "BEHIND_PROXY": _env("BEHIND_PROXY", "") == "1",
        # notifications: the site's public address (for links), SMTP and the group robot
        "BASE_URL": _env("BASE_URL", ""),
        "SMTP_HOST": _env("SMTP_HOST", ""),
        "SMTP_PORT": int(_env("SMTP_PORT", "25")),
        "SMTP_USER": _env("SMTP_USER", ""),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD", ""),
        "SMTP_FROM": _env("SMTP_FROM", ""),
        "SMTP_STARTTLS": _env("SMTP_STARTTLS", "") in ("1", "true", "yes"),
        "WEBHOOK_URL": _env("WEBHOOK_URL", ""),
    }


DEFAULTS = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "BABEL_DEFAULT_LOCALE": "zh",
    "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent.parent / "translations"),
    "API_TITLE": "fieldwatch API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "LOOKBACK_DEFAULT_DAYS": 30,
    "RANKING_WEIGHTS": {"coverage": 0.3, "visits": 0.2, "closed": 0.3, "lookbacks_on_time": 0.2},
}
