"""The demo county as `fieldwatch demo load` leaves it."""

import sqlalchemy as sa


def test_the_demo_history_leaves_no_message_to_send(pg_instance, template_database):
    from fieldwatch import pg

    engine = sa.create_engine(pg.database_url(pg_instance, template_database))
    try:
        with engine.connect() as conn:
            total, unsent, backdated = conn.execute(
                sa.text(
                    "SELECT count(*), count(*) FILTER (WHERE sent_at IS NULL),"
                    " count(*) FILTER (WHERE sent_at = created_at) FROM outbox"
                )
            ).one()
    finally:
        engine.dispose()
    # the made-up history did queue messages (assignments, look-backs due, invitations) ...
    assert total > 50
    # ... which count as delivered when they happened: `fieldwatch notify` mails none of them
    assert unsent == 0 and backdated == total
