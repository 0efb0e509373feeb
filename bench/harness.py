"""Run the benchmark: make sure the province is loaded, serve it, time every scenario.

For each scenario: p50/p95 of single requests on one keep-alive connection
(after a warm-up), the response size, the same question answered by the SQL
alone (psycopg2, same parameters, same repetitions), their ratio, the target
and whether it is met. Then throughput with wrk at c=1 and c=8 per load group,
beside pgbench running the SQL alone, and TiPg side by side. An endpoint that
answers 404 is "not available", never a crash.
"""

from __future__ import annotations

import http.client
import http.cookies
import os
import platform
import re
import statistics
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench import generate, measure, report, scenarios, servers
from bench.province import SCALES

OUT = Path(__file__).resolve().parent / "out"
LOGIN = "bench_leader"
PASSWORD = "bench-pass-2026"
#: where the city and the countryside are looked for
CITY = (104.07, 30.66)


@dataclass
class Options:
    scale: str = "full"
    regenerate: bool = False
    seed: int = generate.SEED
    reps: int = 200
    warmup: int = 20
    wrk_seconds: int = 5
    workers: int = 2
    tipg: bool = True
    tipg_rounds: int = 3
    #: time for all the single-request timings; each scenario side gets its share
    latency_minutes: float = 12
    only: str | None = None
    out: Path = OUT


@dataclass
class Context:
    url: str
    dsn: dict
    instance: Path
    marker: dict
    places: scenarios.Places
    port: int = 0
    base: str = ""
    token: str = ""
    cookie: str | None = None
    reporter_id: int = 0
    app: object | None = None
    notes: list[str] = field(default_factory=list)

    def headers(self, auth: str | None) -> dict[str, str]:
        if auth == "token":
            return {"Authorization": f"Bearer {self.token}"}
        if auth == "cookie" and self.cookie:
            return {"Cookie": self.cookie}
        return {}


def _dsn(url: str) -> dict:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return {
        "host": u.host,
        "port": u.port,
        "user": u.username,
        "password": u.password,
        "dbname": u.database,
    }


def find_places(conn, marker: dict) -> scenarios.Places:
    with conn.cursor() as cur:

        def office_near(lon: float, lat: float):
            cur.execute(
                "SELECT ST_X(location), ST_Y(location), parent_id FROM areas WHERE level = 'village' "
                "ORDER BY location <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326) LIMIT 1",
                (lon, lat),
            )
            return cur.fetchone()

        x0, y0, x1, y1 = marker["extent"]
        city = office_near(*CITY)
        rural = office_near(x0 + 0.8 * (x1 - x0), y0 + 0.8 * (y1 - y0))
        step = max(1, marker["max_id"]["issues"] // 200)
        cur.execute(
            "SELECT ST_X(location), ST_Y(location) FROM issues WHERE id %% %s = 7 AND id <= %s "
            "ORDER BY id LIMIT 200",
            (step, marker["max_id"]["issues"]),
        )
        points = cur.fetchall()
        cur.execute("SELECT code FROM areas WHERE id = %s", (city[2],))
        township_code = cur.fetchone()[0]
    return scenarios.Places(
        city=(city[0], city[1]),
        rural=(rural[0], rural[1]),
        province=((x0 + x1) / 2, (y0 + y1) / 2),
        points=points,
        township_code=township_code,
        township_id=city[2],
        as_of=marker["as_of"][:10],
    )


def remove_bench_rows(conn, marker: dict) -> int:
    """Delete what earlier runs wrote (issues past the generated ones and what hangs on them)."""
    top = marker["max_id"]["issues"]
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM issues WHERE id > %s", (top,))
        extra = cur.fetchone()[0]
        if not extra:
            return 0
        # the foreign keys' own checks would scan a million rows per deleted issue (no index
        # on duplicate_of_id): what refers to these rows is deleted first, by hand
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.confrelid = 'issues'::regclass
            """
        )
        for table, column in cur.fetchall():
            if table == "issues":
                cur.execute(f"UPDATE issues SET {column} = NULL WHERE {column} > %s", (top,))
            else:
                cur.execute(f"DELETE FROM {table} WHERE {column} > %s", (top,))
        cur.execute("DELETE FROM issues WHERE id > %s", (top,))
    conn.commit()
    return extra


def credentials(ctx: Context) -> None:
    """A leader with a password and an API token, made through the auth services."""
    from fieldwatch import create_app
    from fieldwatch.auth import services
    from fieldwatch.errors_core import NotFound
    from fieldwatch.extensions import db

    app = create_app(generate.app_config(ctx.url, ctx.instance))
    with app.app_context():
        try:
            user = services.get_user(LOGIN)
        except NotFound:
            user = services.create_user(LOGIN, "leader", "基准测试", PASSWORD)
        ctx.token = services.issue_token(user, "bench")
        ctx.reporter_id = user.id
        db.session.commit()
    ctx.app = app


def sign_in(port: int) -> str | None:
    """Sign in through /login (with the form's CSRF token); return the Cookie header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/login")
        resp = conn.getresponse()
        page = resp.read().decode(errors="replace")
        jar = http.cookies.SimpleCookie()
        for header in resp.msg.get_all("Set-Cookie") or []:
            jar.load(header)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page
        )
        if not found:
            return None
        body = urlencode({"csrf_token": found.group(1), "login": LOGIN, "password": PASSWORD})
        cookie = "; ".join(f"{k}={m.value}" for k, m in jar.items())
        conn.request(
            "POST",
            "/login",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        resp = conn.getresponse()
        resp.read()
        for header in resp.msg.get_all("Set-Cookie") or []:
            jar.load(header)
        if resp.status not in (302, 303):
            return None
        return "; ".join(f"{k}={m.value}" for k, m in jar.items())
    finally:
        conn.close()


def pip_call(ctx: Context):
    """area_containing itself, in an app context (None if it cannot be imported)."""
    try:
        from fieldwatch.areas.queries import area_containing
    except ImportError:
        return None
    app = ctx.app

    def call(point) -> int:
        with app.app_context():
            area_containing(point[0], point[1])
        return 0

    return call


def containing_sql() -> str:
    try:
        from fieldwatch.areas.queries import _CONTAINING

        return scenarios.pg_params(_CONTAINING.text)
    except (ImportError, AttributeError):
        return scenarios.pg_params(
            """
            WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
            SELECT a.id, a.parent_id FROM areas a, pt
            WHERE a.level = 'village' AND ST_Intersects(a.boundary, pt.g) LIMIT 1
            """
        )


# --- one scenario ---------------------------------------------------------------------------
def judge(row: dict, target: scenarios.Target) -> bool | None:
    if row.get("p95") is None and row.get("bytes") is None:
        return None
    checks = []
    if target.p95_ms is not None and row.get("p95") is not None:
        checks.append(row["p95"] <= target.p95_ms)
    if target.max_bytes is not None and row.get("bytes") is not None:
        checks.append(row["bytes"] <= target.max_bytes)
    if target.over_sql_ms is not None and row.get("sql_p50") is not None and row.get("p50"):
        checks.append(row["p50"] - row["sql_p50"] <= target.over_sql_ms)
    return all(checks) if checks else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:200]


def run_scenario(
    s: scenarios.Scenario, ctx: Context, sql_conn, opts: Options, budget_s: float
) -> dict:
    row: dict = {"scenario": s.name, "group": s.group, "target": s.target.text(), "status": "ok"}
    row["load1"] = round(os.getloadavg()[0], 2)  # others' work on the machine shows here
    notes = []
    if s.sql:
        try:
            sample = measure.time_calls(
                measure.sql_runner(sql_conn), s.sql, opts.reps, opts.warmup, budget_s
            )
            row.update(
                sql_p50=sample.p50, sql_p95=sample.p95, sql_bytes=sample.max_size, sql_n=sample.n
            )
        except Exception as exc:  # noqa: BLE001  a scenario never stops the run
            sql_conn.rollback()
            notes.append(f"SQL failed: {_first_line(exc)}")
    try:
        if s.call is not None:
            sample = measure.time_calls(s.call, s.call_args, opts.reps, opts.warmup, budget_s)
            row.update(p50=sample.p50, p95=sample.p95, n=sample.n)
        elif s.requests:
            client = measure.Client("127.0.0.1", ctx.port, ctx.headers(s.auth))
            if s.auth == "cookie" and not ctx.cookie:
                row["status"] = "not available"
                notes.append("could not sign in through /login")
            else:
                status, body, _ = client.send(s.requests[0])
                reason = s.check(body) if s.check and status in s.expect else None
                if status == 404:
                    row["status"] = "not available"
                    notes.append("404: endpoint not built yet")
                elif status not in s.expect:
                    row["status"] = f"HTTP {status}"
                    notes.append(body[:160].decode(errors="replace").replace("\n", " "))
                elif reason:
                    row["status"] = "not available"
                    notes.append(reason)
                else:
                    sample = measure.time_requests(
                        client, s.requests, opts.reps, opts.warmup, budget_s
                    )
                    row.update(p50=sample.p50, p95=sample.p95, bytes=sample.max_size, n=sample.n)
                    bad = [st for st in sample.statuses if st not in s.expect]
                    if bad:
                        notes.append(f"{len(bad)} answers not {s.expect}: {sorted(set(bad))}")
            client.close()
        else:  # the SQL is the measure
            row.update(p50=row.get("sql_p50"), p95=row.get("sql_p95"), n=row.get("sql_n"))
            notes.append("SQL only (no HTTP)")
    except Exception as exc:  # noqa: BLE001
        row["status"] = "error"
        notes.append(_first_line(exc))
    if row["status"] == "ok" and row.get("p50") and row.get("sql_p50"):
        row["ratio"] = round(row["p50"] / row["sql_p50"], 2)
        row["over_sql_ms"] = round(row["p50"] - row["sql_p50"], 2)
    row["met"] = judge(row, s.target) if row["status"] == "ok" else None
    if row["status"] != "ok" and s.target.p95_ms and row.get("sql_p95"):
        if row["sql_p95"] > s.target.p95_ms:
            notes.append(f"the SQL alone already misses p95<{s.target.p95_ms:g}ms")
    row["note"] = "; ".join(notes)
    return row


# --- load -------------------------------------------------------------------------------------
def settle(port: int, path: str = "/login", timeout: float = 60) -> None:
    """Wait until the server has worked off what wrk left queued (sync workers finish
    requests whose clients have gone), so the next measurement starts on an idle server."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            servers._get(port, path, timeout=timeout)
        except OSError:
            return
        if time.perf_counter() - started < 0.1:
            return
        time.sleep(0.2)


def _rendered(sql_conn, s: scenarios.Scenario) -> list[str]:
    out = []
    with sql_conn.cursor() as cur:
        for statements, params in s.sql:
            if isinstance(statements, list | tuple):
                return []
            out.append(cur.mogrify(statements, params).decode())
    return out


def run_loads(chosen, rows, ctx: Context, sql_conn, opts: Options, log) -> list[dict]:
    groups: dict[str, list[scenarios.Scenario]] = {}
    for s in chosen:
        if s.load:
            groups.setdefault(s.load, []).append(s)
    by_name = {r["scenario"]: r for r in rows}
    results = []
    for group, members in groups.items():
        log(f"bench: load {group} ...")
        out: dict = {"group": group, "errors": 0}
        live = [s for s in members if by_name[s.name]["status"] == "ok"]
        if live:
            paths = [r.path for s in live for r in s.requests if r.method == "GET"]
            headers = ctx.headers(live[0].auth)
            for c in (1, 8):
                load = measure.wrk(
                    f"http://127.0.0.1:{ctx.port}", paths, headers, c, opts.wrk_seconds
                )
                settle(ctx.port)
                out[f"app_c{c}"] = load.rps
                out["errors"] += load.errors
                if c == 8:
                    out["app_c8_p99"] = load.p99_ms
                if load.note:
                    out["note"] = f"c={c}: {load.note}"
        else:
            out["note"] = "app: not available"
        statements = [sql for s in members for sql in _rendered(sql_conn, s)]
        if statements:
            for c in (1, 8):
                load = measure.pgbench(ctx.dsn, statements, c, opts.wrk_seconds)
                out[f"sql_c{c}"] = load.rps
                if load.note and load.note not in out.get("note", ""):
                    out["note"] = (out.get("note", "") + "; " + load.note).strip("; ")
        results.append(out)
    return results


# --- TiPg side by side ------------------------------------------------------------------------
#: TiPg gets the columns behind every property fieldwatch's OGC items carry (ids where
#: fieldwatch joins codes and names; not the reporter's id or a resident's contact)
TIPG_ITEM_PROPS = (
    "ref,title,description,category_id,status,priority,source,address,area_id,township_id,"
    "unit_id,due_on,answer_class,accuracy_m,location_source,observed_at,created_at,updated_at,"
    "accepted_at,resolved_at,closed_at,reopen_count,duplicate_of_id"
)
#: and on tiles the columns of fieldwatch's tile properties, open problems only as ours
TIPG_TILE_QUERY = urlencode(
    {
        "properties": "ref,title,status,category_id,priority,due_on,reopen_count",
        "filter": "status IN ('reported','accepted','in_progress','resolved')",
    }
)


def _comparison_bbox(sql_conn, centre) -> tuple[tuple, int]:
    """A map view around `centre` holding about 150 problems (DESIGN.md's TiPg figure)."""
    zoom = 18.0
    try:
        with sql_conn.cursor() as cur:
            while True:
                b = scenarios.bbox_for(centre, zoom)
                cur.execute(
                    "SELECT count(*) FROM issues "
                    "WHERE location && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
                    b,
                )
                count = cur.fetchone()[0]
                if count >= 150 or zoom <= 8:
                    return b, count
                zoom -= 0.25
    finally:
        sql_conn.commit()


def _probe(port: int, path: str, headers: dict) -> tuple[int, bytes]:
    client = measure.Client("127.0.0.1", port, headers)
    try:
        status, body, _ = client.send(measure.Request(path))
        return status, body
    finally:
        client.close()


def compare_tipg(ctx: Context, sql_conn, opts: Options, log) -> dict:
    reason = servers.ensure_tipg(log)
    if reason:
        return {"status": "not run", "note": f"TiPg could not be installed: {reason}"}
    tipg = servers.tipg_server(ctx.dsn, opts.workers, opts.out / "tipg.log")
    try:
        tipg.start("/collections/public.issues", timeout=180)
    except (RuntimeError, OSError) as exc:
        return {"status": "not run", "note": f"TiPg did not start: {exc}"}
    try:
        return _compare(ctx, tipg, sql_conn, opts, log)
    except Exception as exc:  # noqa: BLE001
        return {"status": "failed", "note": _first_line(exc), "trace": traceback.format_exc()}
    finally:
        tipg.stop()


def _compare(ctx: Context, tipg: servers.Server, sql_conn, opts: Options, log) -> dict:
    b, count = _comparison_bbox(sql_conn, ctx.places.city)
    limit = 200 if count < 200 else count
    box = scenarios.bbox_text(b)
    cases = [
        {
            "name": f"items bbox ({count} features)",
            "fw": "/ogc/collections/issues/items?" + urlencode({"bbox": box, "limit": limit}),
            "tipg": "/collections/public.issues/items?"
            + urlencode({"bbox": box, "limit": limit, "properties": TIPG_ITEM_PROPS}),
            "sql": (
                scenarios.ISSUES_IN_BBOX,
                {"x1": b[0], "y1": b[1], "x2": b[2], "y2": b[3], "limit": limit},
            ),
        }
    ]
    for z in (14, 11):
        z, x, y = scenarios.tile_for(ctx.places.city, z)
        cases.append(
            {
                "name": f"tile {z}/{x}/{y}",
                "fw": f"/tiles/issues/{z}/{x}/{y}.pbf",
                "tipg": f"/collections/public.issues/tiles/WebMercatorQuad/{z}/{x}/{y}?"
                + TIPG_TILE_QUERY,
                "sql": scenarios._tile(z, x, y),
            }
        )
    fw_headers = ctx.headers("token")
    for case in cases:
        notes = []
        status, body = _probe(tipg.port, case["tipg"], {})
        if status != 200 and "properties=" in case["tipg"]:
            case["tipg"] = re.sub(r"[?&]properties=[^&]*", "", case["tipg"])
            status, body = _probe(tipg.port, case["tipg"], {})
        case["tipg_status"], case["tipg_bytes"] = status, len(body)
        fw_status, fw_body = _probe(ctx.port, case["fw"], fw_headers)
        case["fw_status"] = "not available" if fw_status == 404 else f"HTTP {fw_status}"
        fw_ok = fw_status == 200
        if fw_ok:
            case["fw_bytes"] = len(fw_body)
        if status != 200:
            notes.append(f"TiPg answered {status}: {body[:120]!r}")
        fw_runs, tipg_runs = [], []
        log(f"bench: TiPg side by side: {case['name']} ...")
        for _ in range(opts.tipg_rounds):
            if fw_ok:
                load = measure.wrk(ctx.base, [case["fw"]], fw_headers, 8, opts.wrk_seconds)
                settle(ctx.port)
                if load.rps is not None:
                    fw_runs.append(load.rps)
            if status == 200:
                load = measure.wrk(tipg.base, [case["tipg"]], {}, 8, opts.wrk_seconds)
                if load.rps is not None:
                    tipg_runs.append(load.rps)
                if load.errors:
                    notes.append(f"TiPg non-2xx: {load.errors}")
        with sql_conn.cursor() as cur:
            rendered = cur.mogrify(*case["sql"]).decode()
        case["sql"] = measure.pgbench(ctx.dsn, [rendered], 8, opts.wrk_seconds).rps
        case["fieldwatch"] = statistics.median(fw_runs) if fw_runs else None
        case["tipg"] = statistics.median(tipg_runs) if tipg_runs else None
        case["fw_runs"], case["tipg_runs"] = fw_runs, tipg_runs
        if case["fieldwatch"] and case["tipg"]:
            case["ratio"] = round(case["fieldwatch"] / case["tipg"], 2)
            case["met"] = case["ratio"] >= 2
        case["note"] = "; ".join(notes)
    return {
        "status": "ok",
        "version": servers.tipg_version(),
        "rounds": opts.tipg_rounds,
        "workers": opts.workers,
        "cases": cases,
    }


# --- the run -----------------------------------------------------------------------------------
def run(opts: Options, log=print) -> dict:
    started = time.monotonic()
    scale = SCALES[opts.scale]
    url, load_info = generate.ensure(scale, opts.seed, opts.regenerate, log=log)
    sql_conn = generate.connect(url)
    with sql_conn.cursor() as cur:
        marker = generate.marker(cur)
    sql_conn.commit()
    removed = remove_bench_rows(sql_conn, marker)
    if removed:
        log(f"bench: removed {removed} issues left by an earlier run")
    ctx = Context(url, _dsn(url), generate.instance_path(), marker, find_places(sql_conn, marker))
    credentials(ctx)
    server = servers.fieldwatch_server(url, ctx.instance, opts.workers, opts.out / "server.log")
    result: dict = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": servers.version_of_fieldwatch(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": os.getloadavg(),
        },
        "options": {k: str(v) for k, v in vars(opts).items()},
        "province": marker,
        "load": load_info,
        "places": vars(ctx.places) | {"points": len(ctx.places.points)},
    }
    try:
        log(f"bench: starting fieldwatch serve ({opts.workers} workers) ...")
        server.start("/login")
        ctx.port = server.port
        ctx.base = server.base
        ctx.cookie = sign_in(ctx.port)
        if not ctx.cookie:
            log("bench: could not sign in through /login; page rows will be skipped")
        chosen = scenarios.build(ctx.places, ctx.reporter_id, containing_sql(), pip_call(ctx))
        if opts.only:
            chosen = [s for s in chosen if opts.only in s.name or opts.only in s.group]
        rows = []
        deadline = time.monotonic() + opts.latency_minutes * 60
        for k, s in enumerate(chosen):
            log(f"bench: {s.name} ...")
            sides = sum(bool(x.sql) + bool(x.requests or x.call) for x in chosen[k:])
            share = (deadline - time.monotonic()) / max(1, sides)
            budget = min(measure.BUDGET_S, max(1.5, share))
            rows.append(run_scenario(s, ctx, sql_conn, opts, budget))
        result["scenarios"] = rows
        result["throughput"] = run_loads(chosen, rows, ctx, sql_conn, opts, log)
        if opts.tipg:
            result["tipg"] = compare_tipg(ctx, sql_conn, opts, log)
        else:
            result["tipg"] = {"status": "skipped", "note": "--no-tipg"}
    finally:
        server.stop()
        try:
            remove_bench_rows(sql_conn, marker)
        except Exception as exc:  # noqa: BLE001
            log(f"bench: could not remove the bench's own rows: {_first_line(exc)}")
        sql_conn.close()
    result["seconds"] = round(time.monotonic() - started, 1)
    result["machine"]["loadavg_end"] = os.getloadavg()
    return result


def print_results(result: dict, log=print) -> None:
    log("")
    info = result.get("load") or {}
    province = result["province"]
    counts = province.get("counts", {})
    log(
        f"fieldwatch bench, {province['scale']} province: {counts.get('issues', 0):,} issues, "
        f"{counts.get('areas', 0):,} areas, {counts.get('stations', 0):,} stations "
        f"(commit {result['commit']}, {result['machine']['cpus']} cpus)"
    )
    machine = result["machine"]
    if "loadavg_end" in machine:
        log(
            "load average (1/5/15 min) at start "
            + "/".join(f"{v:.1f}" for v in machine["loadavg_start"])
            + ", at end "
            + "/".join(f"{v:.1f}" for v in machine["loadavg_end"])
            + " (above the cpu count, other work on the machine inflates the figures)"
        )
    if info:
        log(f"generated in {info['timings'].get('with_migrations')}s; sizes {info.get('sizes')}")
    log("")
    log(report.latency_table(result.get("scenarios", [])))
    log("")
    log(report.throughput_table(result.get("throughput", [])))
    log("")
    log(report.tipg_table(result.get("tipg", {})))
    log(f"\nwhole run {result['seconds']:.0f}s; results in bench/out/results.json")
