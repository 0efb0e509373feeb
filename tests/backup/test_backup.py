"""Backup and restore round-trip the demo county: every table and every file, and refuse the unsafe."""

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from fieldwatch import pg


def _connect(url: str):
    u = make_url(url)
    return psycopg2.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database
    )


def table_digests(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent digest of every table's rows."""
    with _connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'spatial_ref_sys'"
        )
        names = sorted(r[0] for r in cur.fetchall())
        out = {}
        for name in names:
            cur.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{name}\" t"
            )
            out[name] = cur.fetchone()
        return out


def file_digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fieldwatch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def empty_instance(pg_instance, tmp_path):
    name = f"fw_restore_{os.getpid()}_{time.monotonic_ns() % 10**8}"
    url = pg.ensure_database(pg_instance, name, fresh=True)
    instance = tmp_path / "restored"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
    env.update(
        FIELDWATCH_DATABASE_URL=url, FIELDWATCH_INSTANCE=str(instance), FIELDWATCH_SECRET_KEY="x"
    )
    yield url, instance, env
    pg.drop_database(pg_instance, name)


def test_backup_and_restore_round_trip_every_table_and_file(live_server, empty_instance, tmp_path):
    live_server.stop()  # a quiet database: the copy must equal the original
    uploads = live_server.instance / "uploads"
    (uploads / "ab").mkdir(parents=True, exist_ok=True)
    (uploads / "ab" / "probe.jpg").write_bytes(b"\xff\xd8 not really a jpeg \xff\xd9")
    (uploads / "thumbs").mkdir(exist_ok=True)
    (uploads / "thumbs" / "probe.jpg").write_bytes(os.urandom(2048))
    archive = tmp_path / "fw.tar"
    made = live_server.cli("backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert archive.is_file() and "backup written" in made.stdout

    url, instance, env = empty_instance
    restored = run(env, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert table_digests(url) == table_digests(live_server.database_url)
    assert file_digests(instance / "uploads") == file_digests(uploads)
    counts = table_digests(url)
    assert counts["areas"][0] > 400 and counts["users"][0] > 5 and counts["alembic_version"][0] == 1

    again = run(env, "restore", str(archive))
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        "error: the database is not empty: restore only into an empty instance"
    ]


def test_restore_refuses_a_file_that_is_not_a_backup(empty_instance, tmp_path):
    url, instance, env = empty_instance
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar file")
    result = run(env, "restore", str(junk))
    assert result.returncode == 1 and result.stderr.startswith("error: not a fieldwatch backup")
    assert table_digests(url) == {}


def test_restore_refuses_path_traversal(empty_instance, tmp_path):
    url, instance, env = empty_instance
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        for name, data in (
            ("manifest.json", b'{"format": "fieldwatch-backup/1", "files": {}, "tables": {}}'),
            ("db.dump", b"x"),
            ("uploads/../../escape.txt", b"gotcha"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    result = run(env, "restore", str(evil))
    assert result.returncode == 1 and "unsafe entry" in result.stderr
    assert not (tmp_path / "escape.txt").exists()
    assert table_digests(url) == {}
