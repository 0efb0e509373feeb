"""A server on its own PostGIS cluster, so a test may crash or stop the database freely."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fieldwatch import pg


@dataclass
class OwnCluster:
    instance: Path
    env: dict
    server: object

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "fieldwatch", *args],
            env=self.env,
            capture_output=True,
            text=True,
            input=input,
            timeout=300,
        )

    def stop_database(self, mode: str = "fast") -> None:
        pg.stop(self.instance, mode=mode)

    def start_database(self) -> None:
        pg.start(self.instance)


@pytest.fixture
def own_cluster(tmp_path_factory, server_factory):
    """A fresh instance with its own cluster, migrated, with a member `m1`; the server not started."""
    instance = tmp_path_factory.mktemp("own")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
    env.update(FIELDWATCH_INSTANCE=str(instance), FIELDWATCH_SECRET_KEY="fault-secret")
    pg.start(instance)
    cluster = OwnCluster(instance, env, server_factory(instance, env))
    for args, stdin in (
        (("db", "upgrade"), None),
        (("users", "create", "m1", "--role", "member", "--password-stdin"), "member-pass-1\n"),
    ):
        result = cluster.cli(*args, input=stdin)
        assert result.returncode == 0, result.stderr
    try:
        yield cluster
    finally:
        cluster.server.stop()
        state = pg.load_state(instance)
        try:
            pg.stop(instance, mode="immediate")
        except Exception:  # noqa: BLE001  already down
            pass
        if state and state["data"].startswith("/var/lib/fieldwatch/"):
            shutil.rmtree(Path(state["data"]).parent, ignore_errors=True)
