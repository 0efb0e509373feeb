"""Make the synthetic province in its own instance, with COPY (idempotent).

    python -m bench.generate [--small] [--regenerate] [--seed N]

The bench instance is ./instance-bench (FIELDWATCH_BENCH_INSTANCE to move it); the full
province goes into its database `fieldwatch` (so `fieldwatch serve` there just
works), the 1/50 one into `fieldwatch_small`. The real migrations make the
schema; the load drops the secondary indexes and foreign keys of the tables it
fills, COPYs, then puts every one of them back (foreign keys validated) and
ANALYZEs, all in one transaction: an interrupted load leaves empty tables, never
a table without its indexes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench import issues, network, province, visits
from bench.province import SCALES, Scale

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance-bench"
SEED = 2026
#: the day the data is "as of" (fixed, so the same seed gives the same rows)
AS_OF = "2026-12-01T00:00:00+00:00"
MARKER = "bench.generated"
#: bump when the generator changes what it makes, so old loads are regenerated
VERSION = 1
DATABASES = {"full": "fieldwatch", "small": "fieldwatch_small", "tiny": "fieldwatch_tiny"}
#: tables the load fills, in foreign-key order
TABLES = (
    "areas",
    "users",
    "stations",
    "station_serves",
    "issues",
    "visits",
    "visit_stops",
    "followups",
)


def instance_path() -> Path:
    """The bench's own instance: FIELDWATCH_BENCH_INSTANCE, default ./instance-bench.

    Never FIELDWATCH_INSTANCE: that is the developer's instance (the Makefile exports
    it), and a fresh load drops the database it fills.
    """
    return Path(os.environ.get("FIELDWATCH_BENCH_INSTANCE") or DEFAULT_INSTANCE).resolve()


def connect(url: str):
    """A psycopg2 connection from a SQLAlchemy URL."""
    import psycopg2
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return psycopg2.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database
    )


def app_config(url: str, instance: Path) -> dict:
    """The config of an in-process app on the bench database (as the server would have it)."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800},
        "SECRET_KEY": "bench",
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


def migrate(url: str, instance: Path) -> None:
    """Run the real migrations on `url` (as tests/conftest.py does)."""
    import flask_migrate

    from fieldwatch import create_app
    from fieldwatch.extensions import db

    app = create_app(app_config(url, instance))
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        db.session.remove()
        db.engine.dispose()


def expected_counts(scale: Scale) -> dict[str, int]:
    return {
        "areas": scale.n_counties + scale.n_townships + scale.n_villages,
        "stations": scale.stations,
        "issues": scale.issues,
        "visits": scale.visits,
    }


def marker(cursor) -> dict | None:
    try:
        cursor.execute("SELECT value FROM settings WHERE key = %s", (MARKER,))
    except Exception:  # noqa: BLE001  no schema yet
        cursor.connection.rollback()
        return None
    row = cursor.fetchone()
    return row[0] if row else None


def is_loaded(url: str, scale: Scale, seed: int) -> bool:
    """Tell whether the database holds this scale's full load (marker and counts)."""
    try:
        conn = connect(url)
    except Exception:  # noqa: BLE001  no database yet
        return False
    try:
        with conn.cursor() as cur:
            found = marker(cur)
            if not found or found.get("version") != VERSION or found.get("seed") != seed:
                return False
            if found.get("scale") != scale.name:
                return False
            for table, count in expected_counts(scale).items():
                cur.execute(
                    f"SELECT count(*) FROM {table} WHERE id <= %s", (found["max_id"][table],)
                )
                if cur.fetchone()[0] != count:
                    return False
        return True
    finally:
        conn.close()


def behind_head(url: str) -> bool:
    """Tell whether the database's schema is older than the newest migration."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT version_num FROM alembic_version")
            row = cur.fetchone()
        return row is None or row[0] != head
    finally:
        conn.close()


def _analyze(url: str) -> None:
    conn = connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
    finally:
        conn.close()


def _read_lists(cur) -> network.Lists:
    cur.execute("SELECT id, code, deadline_days, lookback_days FROM categories ORDER BY id")
    cats = cur.fetchall()
    cur.execute("SELECT id, code FROM units ORDER BY id")
    units = cur.fetchall()
    return network.Lists(
        np.array([c[0] for c in cats]),
        [c[1] for c in cats],
        np.array([c[2] for c in cats]),
        np.array([c[3] for c in cats]),
        np.array([u[0] for u in units]),
        [u[1] for u in units],
    )


def _set_aside(cur, tables) -> tuple[list, list]:
    """Drop the secondary indexes and foreign keys of `tables`; return how to remake them."""
    cur.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
        """,
        (list(tables),),
    )
    fkeys = cur.fetchall()
    cur.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        (list(tables),),
    )
    indexes = cur.fetchall()
    for table, name, _ in fkeys:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cur.execute(f"DROP INDEX {name}")
    return indexes, fkeys


def _put_back(cur, indexes, fkeys, log) -> None:
    for name, definition in indexes:
        started = time.monotonic()
        cur.execute(definition)
        log(f"  index {name}: {time.monotonic() - started:.1f}s")
    started = time.monotonic()
    for table, name, definition in fkeys:
        cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    log(f"  {len(fkeys)} foreign keys validated: {time.monotonic() - started:.1f}s")


def load(url: str, scale: Scale, seed: int = SEED, as_of: str = AS_OF, log=print) -> dict:
    """Fill a freshly migrated database with the province; return counts and timings."""
    started = time.monotonic()
    as_of_s = int(datetime.fromisoformat(as_of).timestamp())
    rng = np.random.default_rng(seed)
    prov = province.build(scale, seed)
    conn = connect(url)
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    try:
        with conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute("SET synchronous_commit = off")
            lists = _read_lists(cur)
            indexes, fkeys = _set_aside(cur, TABLES)
            # the per-village tallies (migration 0004) are filled once after the COPY,
            # not row by row by their trigger
            cur.execute("SELECT to_regproc('issue_tallies_rebuild') IS NOT NULL")
            tallies = cur.fetchone()[0]
            if tallies:
                cur.execute("ALTER TABLE issues DISABLE TRIGGER issues_tally")

            def copy(table) -> None:
                t0 = time.monotonic()
                table.copy(cur)
                timings[table.name] = round(time.monotonic() - t0, 2)
                counts[table.name] = table.rows
                log(f"  {table.name}: {table.rows:,} rows in {timings[table.name]:.1f}s")

            copy(network.area_table(prov))
            users, people = network.user_table(prov, lists, scale.users, rng, as_of_s)
            copy(users)
            stations, serves, where = network.station_tables(
                prov, people, scale.stations, rng, as_of_s
            )
            copy(stations)
            copy(serves)
            t0 = time.monotonic()
            made = issues.make_issues(prov, lists, scale.issues, rng, as_of_s)
            timings["issues_made"] = round(time.monotonic() - t0, 2)
            copy(issues.issue_table(prov, lists, people, made, rng))
            visit_rows, stop_rows = visits.visit_tables(
                prov, lists, people, where, made, scale.visits, rng, as_of_s
            )
            copy(visit_rows)
            copy(stop_rows)
            copy(issues.followup_table(prov, lists, people, made, scale.followups, rng, as_of_s))
            del made

            t0 = time.monotonic()
            _put_back(cur, indexes, fkeys, log)
            timings["indexes"] = round(time.monotonic() - t0, 2)
            if tallies:
                t0 = time.monotonic()
                cur.execute("SELECT issue_tallies_rebuild()")
                cur.execute("ALTER TABLE issues ENABLE TRIGGER issues_tally")
                timings["issue_tallies"] = round(time.monotonic() - t0, 2)
                log(f"  issue_tallies: {timings['issue_tallies']:.1f}s")
            for table in TABLES:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    if table != "station_serves"
                    else "SELECT 1"
                )
            # refs count up per year from 1; past every year's count nothing collides
            cur.execute(
                "SELECT setval('issue_ref_seq', "
                "(SELECT coalesce(max(split_part(ref, '-', 3)::int), 0) + 1 FROM issues), false)"
            )
            max_id = {}
            for table in expected_counts(scale):
                cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
                max_id[table] = cur.fetchone()[0]
            info = {
                "scale": scale.name,
                "seed": seed,
                "as_of": as_of,
                "version": VERSION,
                "counts": counts,
                "max_id": max_id,
                "extent": prov.extent,
                "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            cur.execute(
                "INSERT INTO settings (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (MARKER, json.dumps(info)),
            )
        conn.commit()
        conn.autocommit = True
        t0 = time.monotonic()
        with conn.cursor() as cur:
            # every table: triggers may have filled others (area_parts) during the COPY
            cur.execute("VACUUM (ANALYZE)")
        timings["vacuum_analyze"] = round(time.monotonic() - t0, 2)
    finally:
        conn.close()
    timings["total"] = round(time.monotonic() - started, 1)
    info["timings"] = timings
    return info


def database_sizes(url: str) -> dict[str, str]:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
                "WHERE relname = ANY(%s) ORDER BY pg_total_relation_size(oid) DESC",
                (list(TABLES),),
            )
            sizes = dict(cur.fetchall())
            cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            sizes["database"] = cur.fetchone()[0]
        return sizes
    finally:
        conn.close()


def ensure(
    scale: Scale,
    seed: int = SEED,
    regenerate: bool = False,
    instance: Path | None = None,
    log=print,
) -> tuple[str, dict | None]:
    """Start the bench instance and make sure it holds the province; return (url, load info)."""
    from fieldwatch import pg

    instance = instance or instance_path()
    pg.start(instance)
    name = DATABASES[scale.name]
    url = pg.database_url(instance, name)
    if not regenerate and is_loaded(url, scale, seed):
        log(f"bench: {name} already holds the {scale.name} province (--regenerate to remake it)")
        if behind_head(url):
            log("bench: migrations have moved on since the load: upgrading in place ...")
            try:
                migrate(url, instance)
                _analyze(url)
                return url, None
            except Exception as exc:  # noqa: BLE001  a migration that needs fresh rows
                log(f"bench: upgrade failed ({str(exc).splitlines()[0][:200]}); remaking")
        else:
            return url, None
    log(f"bench: making the {scale.name} province in {instance} (database {name}) ...")
    started = time.monotonic()
    url = pg.ensure_database(instance, name, fresh=True)
    migrate(url, instance)
    log(f"  migrations: {time.monotonic() - started:.1f}s")
    info = load(url, scale, seed, log=log)
    info["sizes"] = database_sizes(url)
    info["timings"]["with_migrations"] = round(time.monotonic() - started, 1)
    log(f"bench: province made in {info['timings']['with_migrations']:.0f}s; sizes {info['sizes']}")
    return url, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--small", action="store_true", help="the 1/50 province")
    parser.add_argument("--regenerate", action="store_true", help="remake even if loaded")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    scale = SCALES["small" if args.small else "full"]
    ensure(scale, args.seed, args.regenerate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
