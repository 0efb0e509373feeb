#!/usr/bin/env python3
"""Fill in the deployment files (systemd units, nginx site, env file) for one server.

    python3 deploy/render.py --domain fw.example.gov.cn --out /tmp/fieldwatch-deploy

writes, under --out, the files at the paths they are installed to:

    etc/systemd/system/fieldwatch.service            the web app (gunicorn)
    etc/systemd/system/fieldwatch-notify.{service,timer}   notifications every 5 min
    etc/systemd/system/fieldwatch-backup.{service,timer}   a backup every night
    etc/systemd/system/fieldwatch-privacy.{service,timer}  erase expired contacts daily
    etc/nginx/sites-available/fieldwatch.conf        TLS in front, static files
    etc/fieldwatch/env                               settings (EnvironmentFile)

Templates live in deploy/templates and use {{name}} placeholders. Standard
library only, so it runs before the app's virtualenv exists. An unknown or
unfilled placeholder is an error, never a silently broken file.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")

#: template -> where it is installed (relative to /)
TARGETS = {
    "fieldwatch.service": "etc/systemd/system/fieldwatch.service",
    "fieldwatch-notify.service": "etc/systemd/system/fieldwatch-notify.service",
    "fieldwatch-notify.timer": "etc/systemd/system/fieldwatch-notify.timer",
    "fieldwatch-backup.service": "etc/systemd/system/fieldwatch-backup.service",
    "fieldwatch-backup.timer": "etc/systemd/system/fieldwatch-backup.timer",
    "fieldwatch-privacy.service": "etc/systemd/system/fieldwatch-privacy.service",
    "fieldwatch-privacy.timer": "etc/systemd/system/fieldwatch-privacy.timer",
    "nginx-fieldwatch.conf": "etc/nginx/sites-available/fieldwatch.conf",
    "env": "etc/fieldwatch/env",
}

DEFAULTS = {
    "app_dir": "/opt/fieldwatch",
    "venv": None,  # default: <app_dir>/.venv
    "data_dir": "/var/lib/fieldwatch",
    "backup_dir": "/var/backups/fieldwatch",
    "backup_keep_days": "30",
    "backup_time": "02:30:00",
    "log_dir": "/var/log/nginx",
    "acme_root": "/var/www/letsencrypt",
    "user": "fieldwatch",
    "db_name": "fieldwatch",
    "port": "8000",
    "workers": "3",
    "max_photo_mb": "15",
    "ssl_certificate": None,  # default: Let's Encrypt's path for the domain
    "ssl_certificate_key": None,
}


class RenderError(Exception):
    pass


def render_text(text: str, values: dict[str, str], name: str = "template") -> str:
    """Replace every {{name}}; raise RenderError for a name not given."""
    missing = sorted({m for m in PLACEHOLDER.findall(text) if m not in values})
    if missing:
        raise RenderError(f"{name}: no value for {', '.join(missing)}")
    out = PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)
    if "{{" in out or "}}" in out:
        raise RenderError(f"{name}: a malformed placeholder is left")
    return out


def _check(values: dict[str, str]) -> None:
    domain = values["domain"]
    if not re.fullmatch(r"(?=.{1,253}$)([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}", domain):
        raise RenderError(f"--domain {domain!r} is not a host name")
    for key in ("port", "workers", "backup_keep_days", "max_photo_mb"):
        if not str(values[key]).isdigit() or int(values[key]) < 1:
            raise RenderError(f"--{key.replace('_', '-')} must be a positive number")
    if not 1 <= int(values["port"]) <= 65535:
        raise RenderError("--port must be 1–65535")
    if not re.fullmatch(r"\d\d:\d\d(:\d\d)?", values["backup_time"]):
        raise RenderError("--backup-time must be HH:MM or HH:MM:SS")
    if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", values["user"]):
        raise RenderError("--user must be a plain system user name")
    for key in ("app_dir", "venv", "data_dir", "backup_dir", "log_dir", "acme_root"):
        path = values[key]
        if not path.startswith("/") or any(c in path for c in " ;'\"$%\\{}"):
            raise RenderError(f"--{key.replace('_', '-')} must be an absolute path without spaces")


def values_from(args: argparse.Namespace) -> dict[str, str]:
    values = {key: getattr(args, key) for key in DEFAULTS}
    values["domain"] = args.domain
    values["app_dir"] = values["app_dir"].rstrip("/")
    values["venv"] = (values["venv"] or f"{values['app_dir']}/.venv").rstrip("/")
    live = f"/etc/letsencrypt/live/{args.domain}"
    values["ssl_certificate"] = values["ssl_certificate"] or f"{live}/fullchain.pem"
    values["ssl_certificate_key"] = values["ssl_certificate_key"] or f"{live}/privkey.pem"
    # a report: several photos at the phone's size limit, plus the form
    values["client_max_body_size"] = f"{int(values['max_photo_mb']) * 4 + 2}m"
    _check(values)
    return values


def render(values: dict[str, str], out: Path) -> list[Path]:
    """Write every file under `out`; return their paths."""
    written = []
    for template, target in TARGETS.items():
        text = render_text((TEMPLATES / template).read_text(encoding="utf-8"), values, template)
        path = out / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--domain", required=True, help="the site's host name, e.g. fw.example.gov.cn")
    p.add_argument("--out", required=True, type=Path, help="folder to write the files into")
    for key, default in DEFAULTS.items():
        p.add_argument(f"--{key.replace('_', '-')}", dest=key, default=default)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        values = values_from(args)
        written = render(values, args.out)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
