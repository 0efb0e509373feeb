"""Shared fixtures: a real PostGIS, migrated once; each test in a rolled-back transaction.

Two kinds of database:
1. in-process tests (`app`, `client`, `login_as`, factories): one migrated test
   database; every test runs inside a transaction that is rolled back, with the
   engine patched to a connection (Flask-SQLAlchemy-Lite's test_isolation idea).
2. tests that need a real server (`live_server`): a database cloned from a
   migrated template holding the demo county, and `fieldwatch serve` on a free port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from shapely.geometry import Point, box

REPO = Path(__file__).resolve().parent.parent
TEST_INSTANCE = Path(os.environ.get("FIELDWATCH_TEST_INSTANCE", REPO / "instance-test")).resolve()
#: databases are named per test run, so several runs can share the test cluster
WORKER = f"{os.environ.get('PYTEST_XDIST_WORKER', 'w')}_{os.getpid()}"
PASSWORD = "test-pass-123"


# --- the cluster and the databases ---------------------------------------------
@pytest.fixture(scope="session")
def pg_instance() -> Path:
    """The test instance's own PostGIS cluster (started if needed)."""
    from fieldwatch import pg

    pg.start(TEST_INSTANCE)
    return TEST_INSTANCE


def _migrate(url: str, demo: bool = False) -> None:
    import flask_migrate

    from fieldwatch import create_app
    from fieldwatch.extensions import db

    app = create_app(_config(url, REPO / "instance-test" / "scratch"))
    with app.app_context():
        flask_migrate.upgrade(directory=str(REPO / "migrations"))
        if demo:
            from fieldwatch.demo.loader import load_demo

            load_demo()
        db.session.remove()
        db.engine.dispose()


def _config(url: str, instance: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": "test-secret",
        "INSTANCE": str(instance),
        "UPLOAD_FOLDER": str(instance / "uploads"),
        "FIELDWATCH_TIMEZONE": "Asia/Shanghai",
        "MAX_PHOTO_BYTES": 15 * 1024 * 1024,
        "MAX_CONTENT_LENGTH": 62 * 1024 * 1024,
        "ONSITE_DISTANCE_M": 200.0,
        "BASEMAP": "",
        "TIANDITU_KEY": "",
        "TILE_URL": "",
        "PUBLIC_LAYERS": False,
        "SESSION_COOKIE_SECURE": False,
    }


@pytest.fixture(scope="session")
def database_url(pg_instance) -> str:
    """A freshly migrated database for in-process tests."""
    from fieldwatch import pg

    name = f"fw_test_{WORKER}"
    url = pg.ensure_database(pg_instance, name, fresh=True)
    _migrate(url)
    yield url
    _drop_later(pg_instance, name)


@pytest.fixture(scope="session")
def template_database(pg_instance) -> str:
    """A migrated database holding the demo county, to clone for live servers."""
    from fieldwatch import pg

    name = f"fw_template_{WORKER}"
    url = pg.ensure_database(pg_instance, name, fresh=True)
    _migrate(url, demo=True)
    yield name
    _drop_later(pg_instance, name)


def _drop_later(instance: Path, name: str) -> None:
    """Drop a run's database at the end (engines still open in this process are forced off)."""
    from fieldwatch import pg

    try:
        pg.drop_database(instance, name)
    except Exception as exc:  # noqa: BLE001  a left-over database costs only disk
        print(f"could not drop {name}: {exc}")


# --- in-process app -------------------------------------------------------------
class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context (own g, own session)."""

    def open(self, *args, **kwargs):
        from fieldwatch.extensions import db

        with self.application.app_context():
            response = super().open(*args, **kwargs)
        try:
            db.session.expire_all()  # the test's own session must re-read what the request wrote
        except RuntimeError:
            pass
        return response


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    from fieldwatch import create_app

    instance = tmp_path_factory.mktemp("instance")
    config = _config(database_url, instance)
    config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def app(_app):
    """The app inside an app context, with every database write rolled back after the test."""
    from fieldwatch import clock
    from fieldwatch.extensions import db

    with _app.app_context():
        engines = db.engines
        saved = dict(engines)
        cleanup = []
        for key, engine in saved.items():
            connection = engine.connect()
            transaction = connection.begin()
            engines[key] = connection
            cleanup.append((connection, transaction))
        factory = db.session.session_factory
        saved_mode = factory.kw.get("join_transaction_mode")
        factory.kw["join_transaction_mode"] = "create_savepoint"
        db.session.remove()
        try:
            yield _app
        finally:
            db.session.remove()
            clock.set_now(None)
            for connection, transaction in cleanup:
                transaction.rollback()
                connection.close()
            engines.update(saved)
            if saved_mode is None:
                factory.kw.pop("join_transaction_mode", None)
            else:
                factory.kw["join_transaction_mode"] = saved_mode


@pytest.fixture
def keep_answers(app):
    """Turn fieldwatch.datacache on for this test: `keep_answers(cache)` empties and returns it.

    (The cache is off under tests; the caches' own tests turn it on.)
    """
    used = []

    def use(cache):
        cache.clear()
        used.append(cache)
        return cache

    app.config["FIELDWATCH_CACHE"] = True
    yield use
    app.config.pop("FIELDWATCH_CACHE")
    for cache in used:
        cache.clear()


@pytest.fixture
def client(app) -> IsolatedClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    """Invoke `fieldwatch` commands in-process against the test app."""
    from flask.cli import ScriptInfo

    from fieldwatch.cli import cli

    class Runner:
        def invoke(self, args, **kwargs):
            return app.test_cli_runner().invoke(
                cli, args, obj=ScriptInfo(create_app=lambda: app), **kwargs
            )

    return Runner()


@pytest.fixture
def freeze(app):
    """Set the app clock: `freeze(datetime(..., tzinfo=UTC))`."""
    from fieldwatch import clock

    def set_at(at):
        clock.set_now(at)

    yield set_at
    clock.set_now(None)


# --- factories --------------------------------------------------------------------
@pytest.fixture
def make_user(app):
    """Create a user: make_user("leader", township=code, unit=code, login=...)."""
    from fieldwatch.auth.services import create_user
    from fieldwatch.extensions import db

    counter = iter(range(1, 10_000))

    def make(
        role: str = "member",
        login: str | None = None,
        township: str | None = None,
        unit: str | None = None,
        **extra,
    ):
        if role == "unit" and unit is None:
            unit = "water"
        user = create_user(
            login or f"{role}{next(counter)}",
            role,
            extra.pop("name", None),
            PASSWORD,
            township,
            unit,
            **extra,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def login_as(client, make_user):
    """Sign the test client in as a new user of `role` (or as a given user); return the user."""

    def login(role_or_user="member", **kwargs):
        user = make_user(role_or_user, **kwargs) if isinstance(role_or_user, str) else role_or_user
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return login


@pytest.fixture
def token_for(app):
    """Return an `Authorization` header dict with a new API token for the user."""
    from fieldwatch.auth.services import issue_token
    from fieldwatch.extensions import db

    def make(user) -> dict:
        token = issue_token(user)
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


@dataclass
class SmallCounty:
    """Hand-made places with known answers (codes below)."""

    county: object
    townships: dict
    villages: dict


@pytest.fixture
def small_county(app) -> SmallCounty:
    """Two townships side by side; T1 has two village polygons, T2 has two point-only villages.

    T1 = 512099001000 (box 104.0–104.1, 30.0–30.1): V11 (west half, village), V12 (east half, community)
    T2 = 512099002000 (box 104.1–104.2, 30.0–30.1): V21 office (104.12, 30.05), V22 office (104.18, 30.05)
    """
    from fieldwatch.areas.services import upsert_area
    from fieldwatch.extensions import db

    county = upsert_area(
        "512099000000", "测试县", "county", None, None, box(104.0, 30.0, 104.2, 30.1)
    )
    t1 = upsert_area(
        "512099001000", "东风镇", "township", "town", county.code, box(104.0, 30.0, 104.1, 30.1)
    )
    t2 = upsert_area(
        "512099002000", "西岭乡", "township", "xiang", county.code, box(104.1, 30.0, 104.2, 30.1)
    )
    v11 = upsert_area(
        "512099001001", "红星村", "village", "village", t1.code, box(104.0, 30.0, 104.05, 30.1)
    )
    v12 = upsert_area(
        "512099001002", "新华社区", "village", "community", t1.code, box(104.05, 30.0, 104.1, 30.1)
    )
    v21 = upsert_area(
        "512099002001", "石桥村", "village", "village", t2.code, None, Point(104.12, 30.05)
    )
    v22 = upsert_area(
        "512099002002", "柳湾村", "village", "village", t2.code, None, Point(104.18, 30.05)
    )
    db.session.commit()
    return SmallCounty(
        county, {"T1": t1, "T2": t2}, {"V11": v11, "V12": v12, "V21": v21, "V22": v22}
    )


# --- a real server ----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    database_url: str
    instance: Path
    env: dict
    process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start `fieldwatch serve` and wait until it answers."""
        port = int(self.url.rsplit(":", 1)[1])
        with open(self.instance / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "fieldwatch",
                    "serve",
                    "--port",
                    str(port),
                    "--workers",
                    "2",
                ],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError((self.instance / "server.log").read_text()[-2000:]) from None
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)
        self.process = None

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run a `fieldwatch` command against this server's database and instance."""
        return subprocess.run(
            [sys.executable, "-m", "fieldwatch", *args],
            env=self.env,
            capture_output=True,
            text=True,
            input=input,
            timeout=300,
        )


@contextmanager
def _live(pg_instance, template_database, tmp_path_factory):
    from fieldwatch import pg

    name = f"fw_live_{WORKER}_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    url = pg.ensure_database(pg_instance, name, template=template_database)
    instance = tmp_path_factory.mktemp("live")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
    env.update(
        FIELDWATCH_DATABASE_URL=url,
        FIELDWATCH_INSTANCE=str(instance),
        FIELDWATCH_SECRET_KEY="live-test-secret",
    )
    server = LiveServer(f"http://127.0.0.1:{free_port()}", url, instance, env)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        pg.drop_database(pg_instance, name)
        shutil.rmtree(instance, ignore_errors=True)


@pytest.fixture
def live_server(pg_instance, template_database, tmp_path_factory):
    """`fieldwatch serve` on a free port, on a fresh copy of the demo county."""
    with _live(pg_instance, template_database, tmp_path_factory) as server:
        yield server


@pytest.fixture(scope="module")
def module_live_server(pg_instance, template_database, tmp_path_factory):
    """Like live_server, shared by the tests of one module (for read-mostly tests)."""
    with _live(pg_instance, template_database, tmp_path_factory) as server:
        yield server


@pytest.fixture
def server_factory():
    """Make (not start) a LiveServer for a given instance folder and environment."""

    def make(instance: Path, env: dict) -> LiveServer:
        return LiveServer(
            f"http://127.0.0.1:{free_port()}", env.get("FIELDWATCH_DATABASE_URL", ""), instance, env
        )

    return make
