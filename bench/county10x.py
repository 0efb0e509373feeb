"""The main map on the demo county and on a county ten times larger: page, data and tile sizes, times.

python -m bench.county10x [--reps N] [--keep]

Two scratch databases in the test cluster (instance-test/, never the dev
instance): `fw_county_demo` (migrated, `fieldwatch demo load`) and
`fw_county_10x`, a copy whose problems are multiplied ten times by SQL
(INSERT … SELECT): each copy is a random point inside the same township, with
the status, category, department, due date and reopen count of a demo problem
of that township, and that problem's look-backs. Both are served by `fieldwatch
serve` (gunicorn, 2 workers) and measured over HTTP like a browser: the HTML of
`/`, then every layer of the main map for a few views, then vector tiles. The
databases are dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from bench import measure
from bench.servers import fieldwatch_server

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("FIELDWATCH_TEST_INSTANCE", ROOT / "instance-test")).resolve()
LAYERS = ("townships", "villages", "visits", "stations", "followups", "issues")

MULTIPLY = """
WITH per_township AS (
    SELECT t.id, t.boundary, array_agg(i.id ORDER BY i.id) AS demo_ids
    FROM areas t JOIN issues i ON i.township_id = t.id
    WHERE t.level = 'township' AND t.boundary IS NOT NULL
    GROUP BY t.id, t.boundary
),
points AS (
    SELECT p.id AS township_id, p.demo_ids, d.path[1] AS n, d.geom
    FROM per_township p,
         ST_Dump(ST_GeneratePoints(p.boundary, :copies * cardinality(p.demo_ids), 2026 + p.id)) d
),
made AS (
    INSERT INTO issues (ref, title, description, category_id, location, accuracy_m,
                        location_source, township_id, source, created_at, updated_at, status,
                        priority, unit_id, due_on, answer_class, accepted_at, resolved_at,
                        closed_at, reopen_count, client_id)
    SELECT 'FW-2026-' || lpad(nextval('issue_ref_seq')::text, 6, '0'), d.title, d.description,
           d.category_id, pt.geom, d.accuracy_m, d.location_source, pt.township_id, 'import',
           d.created_at, d.updated_at, d.status, d.priority, d.unit_id, d.due_on,
           d.answer_class, d.accepted_at, d.resolved_at, d.closed_at, d.reopen_count,
           'x10-' || d.id || '-' || pt.n
    FROM points pt
    JOIN issues d ON d.id = pt.demo_ids[1 + mod(pt.n - 1, cardinality(pt.demo_ids))]
    RETURNING id, client_id
)
INSERT INTO followups (issue_id, kind, due_on, done_at, inspector_id, location, accuracy_m,
                       distance_m, on_site, finding, note, satisfaction, township_id, created_at)
SELECT m.id, f.kind, f.due_on, f.done_at, f.inspector_id, f.location, f.accuracy_m,
       f.distance_m, f.on_site, f.finding, f.note, f.satisfaction, f.township_id, f.created_at
FROM made m
JOIN followups f ON f.issue_id = split_part(m.client_id, '-', 2)::int
"""


def _app(url: str, instance: Path):
    from fieldwatch import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-county10x",
            "INSTANCE": str(instance),
            "UPLOAD_FOLDER": str(instance / "uploads"),
            "FIELDWATCH_TIMEZONE": "Asia/Shanghai",
            "BASEMAP": "",
            "TIANDITU_KEY": "",
            "TILE_URL": "",
        }
    )


def make_databases(copies: int, instance: Path) -> tuple[str, str]:
    """Create the demo county database and its tenfold copy; return their URLs."""
    import flask_migrate

    from fieldwatch import pg
    from fieldwatch.demo.loader import load_demo
    from fieldwatch.extensions import db

    pg.start(INSTANCE)
    demo = pg.ensure_database(INSTANCE, "fw_county_demo", fresh=True)
    app = _app(demo, instance)
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        load_demo()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    big = pg.ensure_database(INSTANCE, "fw_county_10x", template="fw_county_demo", fresh=True)
    app = _app(big, instance)
    with app.app_context():
        db.session.execute(db.text(MULTIPLY), {"copies": copies - 1})
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()  # planner statistics are transactional too
        db.session.remove()
        db.engine.dispose()
    return demo, big


def token_for_leader(url: str, instance: Path) -> tuple[str, dict]:
    """An API token for the demo's leader, and what the database holds."""
    from fieldwatch.auth import services
    from fieldwatch.extensions import db

    app = _app(url, instance)
    with app.app_context():
        token = services.issue_token(services.get_user("leader"), "county10x")
        db.session.commit()
        counts = {
            table: db.session.execute(db.text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
            for table in ("issues", "followups", "visits", "stations", "areas")
        }
        counts["open issues"] = db.session.execute(
            db.text(
                "SELECT count(*) FROM issues WHERE status NOT IN ('closed','rejected','duplicate')"
            )
        ).scalar()
        w, s, e, n = db.session.execute(
            db.text(
                "SELECT ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x) FROM "
                "(SELECT ST_Extent(boundary) x FROM areas WHERE level = 'township') q"
            )
        ).one()
        busiest = db.session.execute(
            db.text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(location)) c, count(*) "
                "FROM issues GROUP BY township_id ORDER BY count(*) DESC LIMIT 1) q"
            )
        ).one()
        db.session.remove()
        db.engine.dispose()
    return token, {"counts": counts, "extent": (w, s, e, n), "busiest": tuple(busiest)}


def view_bbox(lon: float, lat: float, zoom: int, width: int, height: int) -> str:
    """The lon/lat box a width x height browser map shows at `zoom`, padded as map-live.js does."""
    px = 360.0 / (256 * 2**zoom)
    half_w = width / 2 * px * 1.3
    half_h = height / 2 * px * math.cos(math.radians(lat)) * 1.3
    return f"{lon - half_w:.5f},{lat - half_h:.5f},{lon + half_w:.5f},{lat + half_h:.5f}"


def tiles_over(extent, z: int) -> list[tuple[int, int, int]]:
    w, s, e, n = extent

    def tile(lon, lat):
        k = 2**z
        return (
            int((lon + 180) / 360 * k),
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * k),
        )

    x0, y0 = tile(w, n)
    x1, y1 = tile(e, s)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def sql_alone(url: str, instance: Path, views: list, reps: int) -> dict[tuple[str, str], float]:
    """p50 ms of each layer's query run in-process (no HTTP, no request around it)."""
    import statistics
    import time

    from fieldwatch import clock
    from fieldwatch.auth import services
    from fieldwatch.extensions import db
    from fieldwatch.map import queries

    app = _app(url, instance)
    out = {}
    with app.app_context():
        reader = queries.Reader.of(services.get_user("leader"))
        today = clock.today()
        for label, (lon, lat), zoom, width, height in views:
            bbox = tuple(float(v) for v in view_bbox(lon, lat, zoom, width, height).split(","))
            for layer in LAYERS:
                times = []
                for k in range(reps + 3):
                    t0 = time.perf_counter()
                    queries.LAYERS[layer](bbox, zoom, reader, today)
                    if k >= 3:
                        times.append((time.perf_counter() - t0) * 1000)
                out[(label, layer)] = round(statistics.median(times), 2)
        db.session.remove()
        db.engine.dispose()
    return out


def measure_county(name: str, url: str, instance: Path, reps: int) -> list[dict]:
    token, facts = token_for_leader(url, instance)
    w, s, e, n = facts["extent"]
    centre = ((w + e) / 2, (s + n) / 2)
    views = [
        ("whole county, desktop 1280x800, z11", centre, 11, 1280, 800),
        ("whole county, phone 375x700, z10", centre, 10, 375, 700),
        ("busiest township, z13", facts["busiest"], 13, 1280, 800),
        ("street, z17", facts["busiest"], 17, 1280, 800),
    ]
    alone = sql_alone(url, instance, views, reps)
    server = fieldwatch_server(url, instance, 2, instance / f"{name}.log")
    server.start("/login")
    rows: list[dict] = []

    def row(what, sample, sql=None, size=None):
        rows.append(
            {
                "what": what,
                "bytes": sample.max_size if size is None else size,
                "p50": sample.p50,
                "p95": sample.p95,
                "sql": sql,
            }
        )

    try:
        client = measure.Client("127.0.0.1", server.port, {"Authorization": f"Bearer {token}"})
        row("HTML of /", measure.time_requests(client, [measure.Request("/")], reps, 3))
        baseline = measure.Request("/api/v1/categories")
        row("baseline: /api/v1/categories", measure.time_requests(client, [baseline], reps, 3))
        for label, (lon, lat), zoom, width, height in views:
            total_bytes, total_ms = 0, 0.0
            for layer in LAYERS:
                query = urlencode({"bbox": view_bbox(lon, lat, zoom, width, height), "zoom": zoom})
                request = measure.Request(f"/api/v1/map/layers/{layer}?{query}")
                sample = measure.time_requests(client, [request], reps, 3)
                assert set(sample.statuses) == {200}, (layer, sample.statuses)
                total_bytes += sample.max_size
                total_ms += sample.p50
                row(f"{label}: {layer}", sample, alone[(label, layer)])
            rows.append(
                {
                    "what": f"{label}: all six layers",
                    "bytes": total_bytes,
                    "p50": round(total_ms, 2),
                    "p95": None,
                    "sql": round(sum(alone[(label, x)] for x in LAYERS), 2),
                }
            )
        for z in (11, 14):
            tiles = tiles_over(facts["extent"], z)
            requests = [measure.Request(f"/tiles/issues/{t[0]}/{t[1]}/{t[2]}.pbf") for t in tiles]
            size = sum(len(client.send(r)[1]) for r in requests)
            sample = measure.time_requests(client, requests, max(reps, len(tiles)), 3)
            row(
                f"issues tiles z{z} over the county ({len(tiles)} tiles): total bytes, ms per tile",
                sample,
                size=size,
            )
        client.close()
    finally:
        server.stop()
    return [{"county": name, **facts["counts"], **r} for r in rows]


def report(results: dict[str, list[dict]], counts: dict[str, dict]) -> str:
    lines = ["# The main map: demo county and a county ten times larger", ""]
    for name, facts in counts.items():
        lines.append(f"- {name}: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    lines += [
        "",
        "HTTP: keep-alive HTTP/1.1 to `fieldwatch serve` (2 gunicorn workers), p50/p95 over the",
        "repetitions; SQL: the layer's query alone, in-process, p50. Load average",
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end of the run.",
        "",
        "| request | demo bytes | demo p50 ms | demo p95 ms | demo SQL ms "
        "| 10x bytes | 10x p50 ms | 10x p95 ms | 10x SQL ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    demo, big = results["demo"], results["10x"]
    for a, b in zip(demo, big, strict=True):
        lines.append(
            f"| {a['what']} | {a['bytes']:,} | {a['p50']} | {a['p95'] or ''} | {a['sql'] or ''} "
            f"| {b['bytes']:,} | {b['p50']} | {b['p95'] or ''} | {b['sql'] or ''} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.county10x", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--reps", type=int, default=30, help="timed requests per row")
    parser.add_argument("--copies", type=int, default=10, help="how many times the demo's problems")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args(argv)
    from fieldwatch import pg

    with tempfile.TemporaryDirectory(prefix="fw-county10x-") as folder:
        instance = Path(folder)
        demo, big = make_databases(args.copies, instance)
        try:
            results, counts = {}, {}
            for name, url in (("demo", demo), ("10x", big)):
                rows = measure_county(name, url, instance, args.reps)
                results[name] = rows
                counts[name] = {
                    k: rows[0][k]
                    for k in ("issues", "open issues", "followups", "visits", "stations", "areas")
                }
        finally:
            if not args.keep:
                pg.drop_database(INSTANCE, "fw_county_10x")
                pg.drop_database(INSTANCE, "fw_county_demo")
    text = report(results, counts)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "county10x.md").write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
