"""The migrations build the whole model, autogenerate finds nothing left, and downgrade works."""

from pathlib import Path

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from fieldwatch import pg
from fieldwatch.extensions import db

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


def migrations_dir() -> str:
    return MIGRATIONS


def test_upgrade_autogenerate_clean_and_downgrade(pg_instance, tmp_path):
    from fieldwatch import create_app

    url = pg.ensure_database(pg_instance, "fw_migrations_probe", fresh=True)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "UPLOAD_FOLDER": str(tmp_path)}
    )
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=migrations_dir())
            engine = db.engine
            tables = set(inspect(engine).get_table_names())
            for name in (
                "areas",
                "stations",
                "station_serves",
                "users",
                "api_tokens",
                "categories",
                "units",
                "issues",
                "issue_events",
                "photos",
                "visits",
                "visit_stops",
                "followups",
                "audit_log",
                "outbox",
                "login_throttle",
                "settings",
            ):
                assert name in tables
            with engine.connect() as conn:
                assert conn.scalar(text("SELECT count(*) FROM categories")) >= 10
                assert conn.scalar(text("SELECT count(*) FROM units")) >= 10
                assert conn.scalar(text("SELECT postgis_lib_version()"))
                ctx = MigrationContext.configure(
                    conn,
                    opts={"include_object": _include, "compare_type": True},
                )
                diff = compare_metadata(ctx, db.metadata)
            assert diff == [], diff
            flask_migrate.downgrade(directory=migrations_dir(), revision="base")
            left = set(inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
            assert left == set()
            engine.dispose()
    finally:
        pg.drop_database(pg_instance, "fw_migrations_probe")


def _include(obj, name, type_, reflected, compare_to):
    from geoalchemy2 import alembic_helpers

    if type_ == "table" and name in ("spatial_ref_sys", "alembic_version"):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)
