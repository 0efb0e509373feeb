"""coverage_version: a sequence moved by every write that can change coverage

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:30:00

Coverage of a province (30,000 villages) costs 0.5-0.9 s to compute and changes
only when places, stations, what they serve, visits, their stops or look-backs
are written. A statement-level trigger on each of those tables moves this
sequence, so a cached answer (fieldwatch/datacache.py) knows when it is stale.
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ("areas", "stations", "station_serves", "visits", "visit_stops", "followups")


def upgrade():
    op.execute("CREATE SEQUENCE coverage_version")
    op.execute("""
        CREATE FUNCTION coverage_touch() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM nextval('coverage_version');
            RETURN NULL;
        END
        $$
    """)
    for table in TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_coverage_touch
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION coverage_touch()
        """)


def downgrade():
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_coverage_touch ON {table}")
    op.execute("DROP FUNCTION IF EXISTS coverage_touch()")
    op.execute("DROP SEQUENCE IF EXISTS coverage_version")
