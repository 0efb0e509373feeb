"""The servers under test: `fieldwatch serve` (gunicorn) and TiPg (uvicorn, in its own venv)."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
TIPG_VENV = BENCH / ".venv-tipg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Server:
    """A server process we started (in its own session), stopped by its own id."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path, cwd: str | None = None):
        self.name, self.argv, self.env, self.log_path, self.cwd = name, argv, env, log, cwd
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self, ready_path: str, timeout: float = 90) -> None:
        """Start and wait until `ready_path` answers 2xx (raise with the log's tail if not)."""
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "w")  # noqa: SIM115  kept open for the child
        self.proc = subprocess.Popen(
            argv,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                status, _ = _get(self.port, ready_path)
                if 200 <= status < 300:
                    return
                last = f"{ready_path} answered {status}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.3)
        self.stop()
        tail = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"{self.name} did not come up ({last}): {' | '.join(tail)}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # gunicorn's and uvicorn's master stop their workers
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)  # the group of the process we started, nothing else
            self.proc.wait(5)


def fieldwatch_server(url: str, instance: Path, workers: int, log: Path) -> Server:
    exe = Path(sys.executable).parent / "fieldwatch"
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "fieldwatch"]
    argv += ["serve", "--host", "127.0.0.1", "--port", "{port}", "--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if k != "FIELDWATCH_FAKE_NOW"}
    env.update(FIELDWATCH_INSTANCE=str(instance), FIELDWATCH_DATABASE_URL=url)
    return Server("fieldwatch", argv, env, log)


# --- TiPg ----------------------------------------------------------------------------------
def ensure_tipg(log=print) -> str | None:
    """Install TiPg and uvicorn in bench/.venv-tipg if needed; return a reason if impossible."""
    uvicorn = TIPG_VENV / "bin" / "uvicorn"
    check = [str(TIPG_VENV / "bin" / "python"), "-c", "import tipg.main, uvicorn"]
    if uvicorn.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return None
    log("bench: installing TiPg in bench/.venv-tipg ...")
    steps = [
        [sys.executable, "-m", "venv", str(TIPG_VENV)],
        [str(TIPG_VENV / "bin" / "pip"), "install", "-q", "--upgrade", "pip"],
        [str(TIPG_VENV / "bin" / "pip"), "install", "-q", "tipg", "uvicorn"],
    ]
    if (TIPG_VENV / "bin" / "python").exists():
        steps = steps[1:]
    for argv in steps:
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(argv[:3])}: {exc}"
        if result.returncode != 0:
            lines = [
                line
                for line in (result.stderr or result.stdout).splitlines()
                if line.strip() and not line.startswith("WARNING: Location")
            ]
            return f"{' '.join(argv[-2:])} failed: {' '.join(lines[-2:])[:300]}"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return "tipg installed but does not import"
    return None


def tipg_version() -> str:
    result = subprocess.run(
        [str(TIPG_VENV / "bin" / "python"), "-c", "import tipg; print(tipg.__version__)"],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() or "?"


def tipg_server(dsn: dict, workers: int, log: Path) -> Server:
    """TiPg serving public.issues of the bench database (its own venv, a clean cwd: no .env)."""
    database_url = (
        f"postgresql://{quote(dsn['user'])}:{quote(dsn['password'])}"
        f"@{dsn['host']}:{dsn['port']}/{dsn['dbname']}"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": database_url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.issues"]',
    }
    argv = [
        str(TIPG_VENV / "bin" / "uvicorn"),
        "tipg.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return Server("tipg", argv, env, log, cwd=tempfile.mkdtemp(prefix="bench-tipg-"))


def version_of_fieldwatch() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(BENCH.parent), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        head = ""
    return re.sub(r"\s+", "", head) or "?"
