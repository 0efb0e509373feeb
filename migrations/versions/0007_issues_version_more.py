"""issues_version also moves on photos, units and areas

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 16:45:00

Pages of the OGC `issues` layer kept by fieldwatch/datacache.py carry each
problem's photo count and the names of its unit, village and township, so a
write to `photos`, `units` or `areas` can change them too: the same
statement-level trigger as 0006 moves `issues_version` on those tables.
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TABLES = ("photos", "units", "areas")


def upgrade():
    for table in TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_issues_touch
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION issues_touch()
        """)


def downgrade():
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_issues_touch ON {table}")
