"""`fieldwatch backup PATH` / `fieldwatch restore PATH`: the database and the uploads in one file.

The file is a tar holding `manifest.json` (format, schema revision, row counts
and file hashes), `db.dump` (pg_dump custom format) and `uploads/…`. Restore
goes only into an empty instance: an empty database and an empty uploads folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fieldwatch import clock
from fieldwatch.errors_core import FieldwatchError, SetupError
from fieldwatch.extensions import db

FORMAT = "fieldwatch-backup/1"


def _libpq_env() -> dict:
    """Connection settings for pg_dump/pg_restore, password in the environment (not argv)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = dict(os.environ)
    env.update(
        PGHOST=url.host or "127.0.0.1",
        PGPORT=str(url.port or 5432),
        PGUSER=url.username or "",
        PGDATABASE=url.database or "",
    )
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def _tool(name: str) -> str:
    from fieldwatch.pg import _bindir

    try:
        path = _bindir() / name
        if path.exists():
            return str(path)
    except SetupError:
        pass
    return name


def table_counts() -> dict[str, int]:
    """Row counts of every table of ours (for the manifest and for checks)."""
    names = db.session.scalars(
        text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('spatial_ref_sys') ORDER BY tablename"
        )
    ).all()
    return {n: db.session.scalar(text(f'SELECT count(*) FROM "{n}"')) for n in names}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(path: Path) -> dict:
    """Write the backup file atomically; return its manifest."""
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    manifest = {
        "format": FORMAT,
        "created_at": clock.now().isoformat(),
        "revision": revision,
        "tables": table_counts(),
        "files": {},
    }
    db.session.rollback()
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        dump = Path(scratch) / "db.dump"
        result = subprocess.run(
            [_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-f", str(dump)],
            env=_libpq_env(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise FieldwatchError(f"pg_dump failed: {result.stderr.strip().splitlines()[-1:]}")
        files = sorted(p for p in uploads.rglob("*") if p.is_file() and not p.name.startswith("."))
        for file in files:
            manifest["files"][file.relative_to(uploads).as_posix()] = _sha256(file)
        partial = path.with_name(f".{path.name}.partial")
        with tarfile.open(partial, "w") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname="db.dump")
            for file in files:
                tar.add(file, arcname=f"uploads/{file.relative_to(uploads).as_posix()}")
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, path)
    return manifest


def _database_is_empty() -> bool:
    count = db.session.scalar(
        text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('spatial_ref_sys')"
        )
    )
    return count == 0


def restore(path: Path) -> dict:
    """Restore a backup into an empty instance; return its manifest."""
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    if not path.is_file():
        raise FieldwatchError(f"no backup file at {path}")
    if not _database_is_empty():
        raise FieldwatchError("the database is not empty: restore only into an empty instance")
    if uploads.exists() and any(p.is_file() for p in uploads.rglob("*")):
        raise FieldwatchError(
            f"the uploads folder {uploads} is not empty: restore only into an empty instance"
        )
    db.session.rollback()
    try:
        tar = tarfile.open(path, "r")
    except (tarfile.TarError, OSError) as exc:
        raise FieldwatchError(f"not a fieldwatch backup: {exc}") from None
    with tar, tempfile.TemporaryDirectory() as scratch:
        try:
            manifest = json.load(tar.extractfile("manifest.json"))
        except (KeyError, ValueError, TypeError):
            raise FieldwatchError("not a fieldwatch backup: no manifest") from None
        if manifest.get("format") != FORMAT:
            raise FieldwatchError(f"unknown backup format {manifest.get('format')!r}")
        members = tar.getmembers()
        for member in members:
            name = member.name
            if (
                name.startswith("/")
                or ".." in Path(name).parts
                or not (member.isfile() or member.isdir())
            ):
                raise FieldwatchError(f"refusing unsafe entry in backup: {name}")
        tar.extract("db.dump", scratch, filter="data")
        dump = Path(scratch) / "db.dump"
        env = _libpq_env()
        listing = subprocess.run(
            [_tool("pg_restore"), "-l", str(dump)], capture_output=True, text=True, env=env
        )
        if listing.returncode != 0:
            raise FieldwatchError(
                f"pg_restore cannot read the dump: {listing.stderr.strip()[:200]}"
            )
        # the target already has PostGIS (every fieldwatch database does): skip the extension entries
        keep = "\n".join(line for line in listing.stdout.splitlines() if " EXTENSION " not in line)
        toc = Path(scratch) / "toc.list"
        toc.write_text(keep)
        result = subprocess.run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "-L",
                str(toc),
                "-d",
                env["PGDATABASE"],
                str(dump),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        if result.returncode != 0:
            raise FieldwatchError(f"pg_restore failed: {result.stderr.strip().splitlines()[-1:]}")
        uploads.mkdir(parents=True, exist_ok=True)
        for member in members:
            if member.isfile() and member.name.startswith("uploads/"):
                tar.extract(member, uploads.parent / "_restore", filter="data")
        staged = uploads.parent / "_restore" / "uploads"
        if staged.exists():
            for file in staged.rglob("*"):
                if file.is_file():
                    target = uploads / file.relative_to(staged)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(file, target)
            import shutil

            shutil.rmtree(uploads.parent / "_restore", ignore_errors=True)
    for name, digest in manifest["files"].items():
        if not (uploads / name).is_file() or _sha256(uploads / name) != digest:
            raise FieldwatchError(f"restored file {name} does not match the backup")
    counts = table_counts()
    if counts != manifest["tables"]:
        raise FieldwatchError("restored row counts differ from the backup's manifest")
    return manifest


def register_cli(cli: click.Group) -> None:
    @cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @with_appcontext
    def backup_command(path: Path) -> None:
        """Write the database and uploads into one file."""
        manifest = backup(path)
        rows = sum(manifest["tables"].values())
        click.echo(
            f"backup written to {path}: {rows} rows in {len(manifest['tables'])} tables, {len(manifest['files'])} files"
        )

    @cli.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @with_appcontext
    def restore_command(path: Path) -> None:
        """Restore a backup file into an empty instance."""
        manifest = restore(path)
        rows = sum(manifest["tables"].values())
        click.echo(
            f"restored {rows} rows and {len(manifest['files'])} files (schema {manifest['revision']})"
        )
