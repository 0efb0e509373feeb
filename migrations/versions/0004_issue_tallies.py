"""issue_tallies: open problems counted per village, kept by a trigger; visit_stops.township_id index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:00:00

The main map at low zoom (township counts, clusters, tiles z<12) summed ~200,000
open problems of a province on every view: 0.5-1.2 s for the GeoJSON layer, up to
3.8 s a tile. These 30,000 rows (one per village) answer the same in a few ms.
A trigger keeps them in the writer's transaction whenever an issue is inserted,
deleted, or its status, place, due date or reopen count is written; the sequence
`issue_tallies_version` moves on each change so caches of low-zoom answers know
when they are stale. A bulk load may drop the trigger and call
`issue_tallies_rebuild()` once afterwards (bench/generate.py does).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

#: the open statuses (DESIGN.md: open = not closed, rejected or duplicate)
OPEN = "('reported', 'accepted', 'in_progress', 'resolved')"


def upgrade():
    op.create_table('issue_tallies',
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('reported', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('in_progress', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('sx', sa.Float(), nullable=False),
    sa.Column('sy', sa.Float(), nullable=False),
    sa.Column('due', postgresql.ARRAY(sa.Date()), nullable=False),
    sa.PrimaryKeyConstraint('township_id', 'village_id')
    )
    with op.batch_alter_table('visit_stops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_stops_township_id'), ['township_id'], unique=False)

    op.execute("CREATE SEQUENCE issue_tallies_version")
    # one problem's share of a tally row, added (sign 1) or taken away (sign -1)
    op.execute(f"""
        CREATE FUNCTION issue_tally_add(r issues, sign integer) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE
            due_one date[] := CASE WHEN r.status = 'in_progress' AND r.due_on IS NOT NULL
                                   THEN ARRAY[r.due_on] ELSE '{{}}'::date[] END;
        BEGIN
            IF r.status NOT IN {OPEN} THEN
                RETURN;
            END IF;
            IF sign > 0 THEN
                INSERT INTO issue_tallies AS t (township_id, village_id, n, reported, accepted,
                    in_progress, resolved, reopened, sx, sy, due)
                VALUES (COALESCE(r.township_id, 0), COALESCE(r.area_id, 0), 1,
                    (r.status = 'reported')::int, (r.status = 'accepted')::int,
                    (r.status = 'in_progress')::int, (r.status = 'resolved')::int,
                    (r.reopen_count > 0)::int, ST_X(r.location), ST_Y(r.location), due_one)
                ON CONFLICT (township_id, village_id) DO UPDATE SET
                    n = t.n + 1, reported = t.reported + EXCLUDED.reported,
                    accepted = t.accepted + EXCLUDED.accepted,
                    in_progress = t.in_progress + EXCLUDED.in_progress,
                    resolved = t.resolved + EXCLUDED.resolved,
                    reopened = t.reopened + EXCLUDED.reopened,
                    sx = t.sx + EXCLUDED.sx, sy = t.sy + EXCLUDED.sy,
                    -- kept sorted: overdue = width_bucket(today - 1, due), a binary search
                    due = CASE WHEN cardinality(EXCLUDED.due) = 0 THEN t.due ELSE
                        (SELECT array_agg(d ORDER BY d) FROM unnest(t.due || EXCLUDED.due) d) END;
            ELSE
                UPDATE issue_tallies t SET
                    n = t.n - 1, reported = t.reported - (r.status = 'reported')::int,
                    accepted = t.accepted - (r.status = 'accepted')::int,
                    in_progress = t.in_progress - (r.status = 'in_progress')::int,
                    resolved = t.resolved - (r.status = 'resolved')::int,
                    reopened = t.reopened - (r.reopen_count > 0)::int,
                    -- back to exactly 0 when the last one goes (no float residue)
                    sx = CASE WHEN t.n = 1 THEN 0 ELSE t.sx - ST_X(r.location) END,
                    sy = CASE WHEN t.n = 1 THEN 0 ELSE t.sy - ST_Y(r.location) END,
                    -- one occurrence of the date, not all of them
                    due = CASE WHEN cardinality(due_one) = 0 THEN t.due ELSE COALESCE(
                        (SELECT array_agg(d ORDER BY k) FROM unnest(t.due) WITH ORDINALITY u(d, k)
                         WHERE k <> array_position(t.due, r.due_on)), '{{}}') END
                WHERE t.township_id = COALESCE(r.township_id, 0)
                  AND t.village_id = COALESCE(r.area_id, 0);
            END IF;
            PERFORM nextval('issue_tallies_version');
        END
        $$
    """)
    op.execute("""
        CREATE FUNCTION issues_tally() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status
               AND NEW.area_id IS NOT DISTINCT FROM OLD.area_id
               AND NEW.township_id IS NOT DISTINCT FROM OLD.township_id
               AND NEW.location = OLD.location
               AND NEW.due_on IS NOT DISTINCT FROM OLD.due_on
               AND (NEW.reopen_count > 0) = (OLD.reopen_count > 0) THEN
                RETURN NULL;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                PERFORM issue_tally_add(OLD, -1);
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') THEN
                PERFORM issue_tally_add(NEW, 1);
            END IF;
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER issues_tally
        AFTER INSERT OR DELETE OR UPDATE OF status, area_id, township_id, location, due_on, reopen_count
        ON issues FOR EACH ROW EXECUTE FUNCTION issues_tally()
    """)
    # the whole table from scratch: after a bulk load with the trigger set aside
    op.execute(f"""
        CREATE FUNCTION issue_tallies_rebuild() RETURNS void LANGUAGE sql AS $$
            DELETE FROM issue_tallies;
            INSERT INTO issue_tallies (township_id, village_id, n, reported, accepted,
                in_progress, resolved, reopened, sx, sy, due)
            SELECT COALESCE(township_id, 0), COALESCE(area_id, 0), count(*),
                count(*) FILTER (WHERE status = 'reported'),
                count(*) FILTER (WHERE status = 'accepted'),
                count(*) FILTER (WHERE status = 'in_progress'),
                count(*) FILTER (WHERE status = 'resolved'),
                count(*) FILTER (WHERE reopen_count > 0),
                sum(ST_X(location)), sum(ST_Y(location)),
                COALESCE(array_agg(due_on ORDER BY due_on) FILTER (WHERE status = 'in_progress'
                                                   AND due_on IS NOT NULL), '{{}}')
            FROM issues WHERE status IN {OPEN}
            GROUP BY 1, 2;
            SELECT nextval('issue_tallies_version');
        $$
    """)
    op.execute("SELECT issue_tallies_rebuild()")


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS issues_tally ON issues")
    op.execute("DROP FUNCTION IF EXISTS issues_tally()")
    op.execute("DROP FUNCTION IF EXISTS issue_tally_add(issues, integer)")
    op.execute("DROP FUNCTION IF EXISTS issue_tallies_rebuild()")
    op.execute("DROP SEQUENCE IF EXISTS issue_tallies_version")
    with op.batch_alter_table('visit_stops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_stops_township_id'))
    op.drop_table('issue_tallies')
