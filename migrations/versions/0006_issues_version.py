"""issues_version: a sequence moved by every write to issues or categories

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:45:00

Vector tiles of problems from zoom 12 on carry each problem's properties (ref,
title, status, category and its name, priority, due date), so any write to
`issues` or `categories` can change one. A statement-level trigger moves this
sequence, so tiles kept by fieldwatch/datacache.py know when they are stale.
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLES = ("issues", "categories")


def upgrade():
    op.execute("CREATE SEQUENCE issues_version")
    op.execute("""
        CREATE FUNCTION issues_touch() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM nextval('issues_version');
            RETURN NULL;
        END
        $$
    """)
    for table in TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_issues_touch
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION issues_touch()
        """)


def downgrade():
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_issues_touch ON {table}")
    op.execute("DROP FUNCTION IF EXISTS issues_touch()")
    op.execute("DROP SEQUENCE IF EXISTS issues_version")
