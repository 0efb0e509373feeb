"""Timing tools: single requests on a keep-alive connection, the SQL alone, wrk and pgbench."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Request:
    path: str
    method: str = "GET"
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Sample:
    """Latencies (ms) and sizes of repeated calls."""

    ms: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def pct(self, q: float) -> float | None:
        return round(float(np.percentile(self.ms, q)), 2) if self.ms else None

    @property
    def p50(self) -> float | None:
        return self.pct(50)

    @property
    def p95(self) -> float | None:
        return self.pct(95)

    @property
    def n(self) -> int:
        return len(self.ms)

    @property
    def max_size(self) -> int | None:
        return max(self.sizes) if self.sizes else None

    @property
    def mean_size(self) -> int | None:
        return int(np.mean(self.sizes)) if self.sizes else None


class Client:
    """One keep-alive HTTP/1.1 connection, reopened if the server closes it."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None):
        self.host, self.port = host, port
        self.headers = headers or {}
        self.conn: http.client.HTTPConnection | None = None

    def send(self, req: Request) -> tuple[int, bytes, dict[str, str]]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(
                    req.method, req.path, body=req.body, headers={**self.headers, **req.headers}
                )
                resp = self.conn.getresponse()
                body = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, body, dict(resp.getheaders())
            except (http.client.HTTPException, ConnectionError, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


#: a scenario side stops after about this many seconds once it has MIN_REPS timed calls
BUDGET_S = 8.0
MIN_REPS = 30


def _repeat(one, reps: int, warmup: int, budget_s: float = BUDGET_S) -> Sample:
    """Call one(k) `warmup` times untimed, then `reps` times timed; slow calls get a shorter
    warm-up and fewer repetitions (MIN_REPS, or 5 when a call takes seconds) so one
    scenario never eats the run."""
    sample = Sample()
    started = time.perf_counter()
    k = 0
    warming = warmup > 0
    while len(sample.ms) < reps:
        t0 = time.perf_counter()
        size, status = one(k)
        elapsed = (time.perf_counter() - t0) * 1000
        k += 1
        spent = time.perf_counter() - started
        if warming:
            warming = k < warmup and not (k >= 1 and spent > budget_s / 4)
            continue
        sample.ms.append(elapsed)
        sample.sizes.append(size)
        sample.statuses.append(status)
        if len(sample.ms) >= MIN_REPS and spent > budget_s:
            break
        if len(sample.ms) >= 5 and spent > 2 * budget_s:  # seconds per call: a few will do
            break
    return sample


def time_requests(
    client: Client, requests: list[Request], reps: int, warmup: int, budget_s: float = BUDGET_S
) -> Sample:
    """Send the requests round-robin (see _repeat)."""

    def one(k: int):
        status, body, _ = client.send(requests[k % len(requests)])
        return len(body), status

    return _repeat(one, reps, warmup, budget_s)


def time_calls(call, args: list, reps: int, warmup: int, budget_s: float = BUDGET_S) -> Sample:
    """Call `call(arg)` round-robin over args (see _repeat)."""

    def one(k: int):
        return call(args[k % len(args)]) or 0, 0

    return _repeat(one, reps, warmup, budget_s)


def sql_runner(conn):
    """Return call((sql, params)) that runs the statements and fetches every row; the size is
    that of the first column of the last result (the response the SQL builds)."""

    def call(item) -> int:
        statements, params = item
        size = 0
        with conn.cursor() as cur:
            for sql in statements if isinstance(statements, list | tuple) else [statements]:
                cur.execute(sql, params)
                if cur.description is not None:
                    rows = cur.fetchall()
                    if rows and rows[0] and rows[0][0] is not None:
                        first = rows[0][0]
                        size = len(first) if isinstance(first, str | bytes | memoryview) else 0
        conn.commit()
        return size

    return call


# --- load generators ---------------------------------------------------------------------
WRK_SCRIPT = """
local paths = {%(paths)s}
local i = 0
%(headers)s
request = function()
  i = (i %% #paths) + 1
  return wrk.format("GET", paths[i])
end
"""


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Load:
    rps: float | None
    errors: int = 0
    note: str = ""
    p50_ms: float | None = None
    p99_ms: float | None = None


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(
    base: str, paths: list[str], headers: dict[str, str], connections: int, seconds: int
) -> Load:
    """Throughput of GETs on `paths` (round-robin) with wrk, one thread."""
    if shutil.which("wrk") is None:
        return Load(None, note="wrk not installed (make bench installs it)")
    lines = "\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in headers.items())
    script = WRK_SCRIPT % {"paths": ", ".join(_lua(p) for p in paths), "headers": lines}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                fh.name,
                base,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        os.unlink(fh.name)
    out = result.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if result.returncode != 0 or not rps:
        return Load(None, note=f"wrk failed: {(result.stderr or out).strip()[:200]}")
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)  # timeouts: slower than 30 s
    p50 = re.search(r"\s50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"\s99%\s+([\d.]+\w+)", out)
    return Load(
        float(rps.group(1)),
        int(errors.group(1)) if errors else 0,
        socket_errors.group(0) if socket_errors else "",
        _ms(p50.group(1)) if p50 else None,
        _ms(p99.group(1)) if p99 else None,
    )


def pgbench(dsn: dict, statements: list[str], clients: int, seconds: int) -> Load:
    """Throughput of the SQL alone: pgbench running each statement as its own script."""
    from fieldwatch import pg

    try:
        binary = str(pg._bindir() / "pgbench")
    except Exception as exc:  # noqa: BLE001
        return Load(None, note=f"pgbench not found: {exc}")
    if len(statements) > 100:  # pgbench takes at most 128 scripts: an even sample
        statements = statements[:: -(-len(statements) // 100)]
    files = []
    try:
        for sql in statements:
            with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as fh:
                fh.write(" ".join(sql.split()) + ";\n")
            files.append(fh.name)
        env = {
            **os.environ,
            "PGHOST": dsn["host"],
            "PGPORT": str(dsn["port"]),
            "PGUSER": dsn["user"],
            "PGPASSWORD": dsn["password"],
            "PGDATABASE": dsn["dbname"],
        }
        argv = [binary, "-n", f"-c{clients}", "-j2", f"-T{seconds}"]
        for name in files:
            argv += ["-f", name]
        result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=seconds + 60)
    finally:
        for name in files:
            os.unlink(name)
    tps = re.search(r"tps = ([\d.]+)", result.stdout)
    if result.returncode != 0 or not tps:
        return Load(None, note=f"pgbench failed: {(result.stderr or result.stdout).strip()[:200]}")
    return Load(float(tps.group(1)))
