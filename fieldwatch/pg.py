"""The instance's own PostGIS cluster: initdb, start, stop, status.

The server runs as `postgres` when we are root (PostgreSQL refuses root). Its
folder must be reachable by that user: when the instance folder is not (a
clone under /root), the cluster lives in /var/lib/fieldwatch/<hash>, which
survives a reboot, unlike /tmp.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from fieldwatch.errors_core import SetupError

DB_USER = "fieldwatch"
DB_NAME = "fieldwatch"
INSTALL_HINT = "apt-get install -y postgresql-15-postgis-3"
#: where PostgreSQL keeps extension control files ({version} filled in)
EXTENSION_DIR = "/usr/share/postgresql/{version}/extension"
#: where Debian puts each PostgreSQL version's server programs
BIN_GLOB = "/usr/lib/postgresql/*/bin/pg_ctl"


def _bindir() -> Path:
    """Find PostgreSQL's server programs or say what to install."""
    candidates = sorted(glob.glob(BIN_GLOB), reverse=True)
    found = shutil.which("pg_ctl") if BIN_GLOB.startswith("/usr/lib/") else None
    if found:
        candidates.insert(0, found)
    for candidate in candidates:
        path = Path(candidate).resolve().parent
        if (path / "initdb").exists() and (path / "postgres").exists():
            return path
    raise SetupError(f"PostgreSQL server programs not found: run `{INSTALL_HINT}`")


def _check_postgis(bindir: Path) -> None:
    version = bindir.parent.name  # /usr/lib/postgresql/15/bin -> 15
    control = Path(EXTENSION_DIR.format(version=version)) / "postgis.control"
    if not control.exists():
        raise SetupError(f"PostGIS is not installed for PostgreSQL {version}: run `{INSTALL_HINT}`")


def _as_root() -> bool:
    return os.geteuid() == 0


def _postgres_can_reach(folder: Path) -> bool:
    """Tell whether the postgres user can reach `folder` (every folder above it traversable)."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(probe)],
        capture_output=True,
    )
    return result.returncode == 0


def state_file(instance: Path) -> Path:
    return instance / "pg.json"


def load_state(instance: Path) -> dict | None:
    path = state_file(instance)
    return json.loads(path.read_text()) if path.exists() else None


def database_url(instance: Path, dbname: str = DB_NAME) -> str:
    """Return the SQLAlchemy URL of the instance's cluster (whether or not it runs)."""
    state = load_state(instance)
    if state is None:
        return f"postgresql+psycopg2://{DB_USER}@127.0.0.1:1/{dbname}?fieldwatch_no_cluster=1"
    return (
        f"postgresql+psycopg2://{DB_USER}:{quote(state['password'])}"
        f"@127.0.0.1:{state['port']}/{dbname}"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cluster_home(instance: Path) -> Path:
    if _as_root() and not _postgres_can_reach(instance):
        digest = hashlib.sha256(str(instance).encode()).hexdigest()[:16]
        return Path("/var/lib/fieldwatch") / digest
    return instance / "pg"


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL program, as `postgres` when we are root."""
    if _as_root():
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


@contextmanager
def _locked(instance: Path):
    instance.mkdir(parents=True, exist_ok=True)
    with open(instance / "pg.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _init(instance: Path, bindir: Path) -> dict:
    home = _cluster_home(instance)
    data, run = home / "data", home / "run"
    if len(str(run)) > 90:  # the socket path limit is ~107 bytes
        digest = hashlib.sha256(str(instance).encode()).hexdigest()[:16]
        run = Path("/var/lib/fieldwatch") / digest / "run"
    password = secrets.token_urlsafe(18)
    for folder in (home, run):
        folder.mkdir(parents=True, exist_ok=True)
    if data.exists():
        shutil.rmtree(data)  # a half-made cluster from an interrupted start
    pwfile = home / "pwfile"
    pwfile.write_text(password + "\n")
    if _as_root():
        subprocess.run(["chown", "-R", "postgres:postgres", str(home), str(run)], check=True)
    result = _run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            DB_USER,
            "--auth-host=scram-sha-256",
            "--auth-local=peer",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
    )
    pwfile.unlink()
    if result.returncode != 0:
        raise SetupError(f"initdb failed: {result.stderr.strip().splitlines()[-1:]}")
    state = {"port": _free_port(), "password": password, "data": str(data), "run": str(run)}
    path = state_file(instance)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh)
    return state


def is_running(state: dict) -> bool:
    result = _run([str(_bindir() / "pg_ctl"), "status", "-D", state["data"]])
    return result.returncode == 0


def start(instance: Path) -> str:
    """Start the instance's cluster (creating it first), make the database; return its URL."""
    bindir = _bindir()
    _check_postgis(bindir)
    with _locked(instance):
        state = load_state(instance)
        if state is None or not Path(state["data"], "PG_VERSION").exists():
            state = _init(instance, bindir)
        if not is_running(state):
            options = (
                f"-p {state['port']} -c listen_addresses=127.0.0.1"
                f" -c unix_socket_directories={state['run']}"
                " -c max_connections=200 -c shared_buffers=256MB -c fsync=on"
            )
            log = Path(state["data"]).parent / "server.log"
            result = _run(
                [
                    str(bindir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    state["data"],
                    "-l",
                    str(log),
                    "-o",
                    options,
                ]
            )
            if result.returncode != 0:
                tail = log.read_text().strip().splitlines()[-1:] if log.exists() else []
                raise SetupError(
                    f"PostgreSQL did not start: {' '.join(tail) or result.stderr.strip()}"
                )
        ensure_database(instance, DB_NAME)
    return database_url(instance)


def _admin_connect(instance: Path, dbname: str = "postgres"):
    import psycopg2

    state = load_state(instance)
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg2.connect(
                host="127.0.0.1",
                port=state["port"],
                user=DB_USER,
                password=state["password"],
                dbname=dbname,
            )
            conn.autocommit = True
            return conn
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def ensure_database(
    instance: Path, name: str, template: str | None = None, fresh: bool = False
) -> str:
    """Create database `name` (with PostGIS) in the instance's cluster; return its URL."""
    conn = _admin_connect(instance)
    try:
        with conn.cursor() as cur:
            if fresh:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                clause = f' TEMPLATE "{template}"' if template else ""
                cur.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        conn.close()
    conn = _admin_connect(instance, name)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    finally:
        conn.close()
    return database_url(instance, name)


def drop_database(instance: Path, name: str) -> None:
    conn = _admin_connect(instance)
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


def stop(instance: Path, mode: str = "fast") -> bool:
    """Stop the cluster; return whether it was running."""
    state = load_state(instance)
    if state is None or not is_running(state):
        return False
    result = _run([str(_bindir() / "pg_ctl"), "stop", "-w", "-m", mode, "-D", state["data"]])
    if result.returncode != 0:
        raise SetupError(f"pg_ctl stop failed: {result.stderr.strip()}")
    return True


def status(instance: Path) -> tuple[bool, dict | None]:
    state = load_state(instance)
    return (state is not None and is_running(state)), state
