"""The command line: the local cluster, users, tokens, and one-line errors."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fieldwatch import cli as cli_module
from fieldwatch import pg


def run_cli(*args, env=None, input=None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIELDWATCH_")}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "fieldwatch", *args],
        env=base,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
    )


def test_pg_start_twice_one_cluster_stop_and_two_instances_side_by_side(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    first, second = private / "one", private / "two"
    try:
        a = run_cli("pg", "start", env={"FIELDWATCH_INSTANCE": str(first)})
        assert a.returncode == 0, a.stderr
        url = a.stdout.strip().splitlines()[-1]
        assert url.startswith("postgresql+psycopg2://") and "127.0.0.1" in url
        again = run_cli("pg", "start", env={"FIELDWATCH_INSTANCE": str(first)})
        assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == url
        state = pg.load_state(first)
        postmasters = subprocess.run(
            ["pgrep", "-f", f"postgres -D {state['data']}"], capture_output=True, text=True
        ).stdout.split()
        assert len(postmasters) == 1
        if os.geteuid() == 0:  # postgres cannot enter the 0700 folder: the cluster lives elsewhere
            assert state["data"].startswith("/var/lib/fieldwatch/")
        b = run_cli("pg", "start", env={"FIELDWATCH_INSTANCE": str(second)})
        assert b.returncode == 0, b.stderr
        assert b.stdout.strip().splitlines()[-1] != url
        for folder in (first, second):
            status = run_cli("pg", "status", env={"FIELDWATCH_INSTANCE": str(folder)})
            assert status.returncode == 0 and "running" in status.stdout
        stop = run_cli("pg", "stop", env={"FIELDWATCH_INSTANCE": str(first)})
        assert stop.returncode == 0 and "stopped" in stop.stdout
        status = run_cli("pg", "status", env={"FIELDWATCH_INSTANCE": str(first)})
        assert status.returncode != 0 and "stopped" in status.stdout
        assert run_cli("pg", "status", env={"FIELDWATCH_INSTANCE": str(second)}).returncode == 0
    finally:
        for folder in (first, second):
            state = pg.load_state(folder)
            run_cli("pg", "stop", env={"FIELDWATCH_INSTANCE": str(folder)})
            if state and state["data"].startswith("/var/lib/fieldwatch/"):
                shutil.rmtree(Path(state["data"]).parent, ignore_errors=True)


def test_wrong_database_url_is_one_line_and_non_zero(tmp_path):
    result = run_cli(
        "db",
        "upgrade",
        env={
            "FIELDWATCH_INSTANCE": str(tmp_path),
            "FIELDWATCH_DATABASE_URL": "postgresql+psycopg2://nobody:pw@127.0.0.1:1/nowhere",
        },
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot use the database" in lines[0] and "127.0.0.1:1" in lines[0]
    assert "pw@" not in lines[0]


def test_no_local_cluster_says_to_start_it(tmp_path):
    result = run_cli(
        "users", "create", "x", "--role", "member", env={"FIELDWATCH_INSTANCE": str(tmp_path)}
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: the local database is not set up: run `fieldwatch pg start` (or set FIELDWATCH_DATABASE_URL)"
    ]


def test_missing_postgis_is_one_line_saying_what_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(pg, "EXTENSION_DIR", str(tmp_path / "no-extensions"))
    monkeypatch.setenv("FIELDWATCH_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setattr(sys, "argv", ["fieldwatch", "pg", "start"])
    with pytest.raises(SystemExit) as info:
        cli_module.main()
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: PostGIS is not installed for PostgreSQL 15: run `apt-get install -y postgresql-15-postgis-3`"
    ]


def test_missing_postgresql_is_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(pg, "BIN_GLOB", str(tmp_path / "nothing" / "*" / "pg_ctl"))
    monkeypatch.setenv("FIELDWATCH_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setattr(sys, "argv", ["fieldwatch", "pg", "start"])
    with pytest.raises(SystemExit) as info:
        cli_module.main()
    assert info.value.code == 1
    assert "apt-get install -y postgresql-15-postgis-3" in capsys.readouterr().err


def test_users_create_and_token_against_a_server_database(live_server):
    bad = live_server.cli("users", "create", "zed", "--role", "wizard")
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0 and "wizard" in bad.stderr
    made = live_server.cli(
        "users",
        "create",
        "zed",
        "--role",
        "supervisor",
        "--password-stdin",
        input="long-enough-pw\n",
    )
    assert made.returncode == 0, made.stderr
    token = live_server.cli("users", "token", "zed")
    assert token.returncode == 0
    value = token.stdout.strip().splitlines()[-1]
    assert value.startswith("fw_") and len(value) > 30
    again = live_server.cli("users", "create", "zed", "--role", "member")
    assert again.returncode == 1 and "zed" not in again.stdout


def test_unknown_township_scope_is_refused(runner, app):
    result = runner.invoke(
        ["users", "create", "sc1", "--role", "member", "--township", "999999999999"]
    )
    assert result.exit_code != 0
