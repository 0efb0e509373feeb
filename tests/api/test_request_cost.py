"""What one request costs the database: statements per call on the hot paths.

A statement count is behaviour, not timing: each statement is a round trip, and the
per-request cost at province scale (docs/performance.md) is mostly round trips. These
tests pin the counts so that a lazy load or an extra lookup cannot slip back in.
"""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import event

#: the test isolation's own savepoints (SQLAlchemy's names; not sent in production)
ISOLATION = re.compile(r"^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT) sa_savepoint_\d+$")


@pytest.fixture
def statements(app):
    """Collect the SQL statements the app sends while a test runs (savepoints left out)."""
    from fieldwatch.extensions import db

    seen: list[str] = []
    connection = db.engines[None]  # the test's connection (tests/conftest.py patches it in)

    def record(conn, cursor, statement, parameters, context, executemany):
        text = " ".join(statement.split())
        if not ISOLATION.match(text):
            seen.append(text)

    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


def test_token_request_is_one_statement(client, make_user, token_for, statements):
    user = make_user("leader")
    login, headers = user.login, token_for(user)
    statements.clear()
    response = client.get("/api/v1/me", headers=headers)
    assert len(statements) == 1, statements  # token and user together, nothing lazy
    assert response.status_code == 200 and response.get_json()["login"] == login


def test_session_request_is_one_statement(client, login_as, statements):
    login = login_as("member").login
    statements.clear()
    response = client.get("/api/v1/me")
    assert len(statements) == 1, statements
    assert response.status_code == 200 and response.get_json()["login"] == login


def test_revoked_token_and_disabled_user_are_refused(app, client, make_user, token_for, statements):
    from fieldwatch.auth.services import revoke_token
    from fieldwatch.extensions import db
    from fieldwatch.models import ApiToken

    revoked_user, disabled_user = make_user("member"), make_user("member")
    revoked, disabled = token_for(revoked_user), token_for(disabled_user)
    assert client.get("/api/v1/me", headers=revoked).status_code == 200
    token_id = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == revoked_user.id))
    revoke_token(token_id, revoked_user)
    disabled_user.active = False  # set_active would also revoke; this check must hold alone
    db.session.commit()
    statements.clear()
    for headers in (revoked, disabled, {"Authorization": "Bearer fw_nonsense"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
    assert len(statements) == 3


def test_report_is_eight_statements(client, make_user, token_for, small_county, statements):
    headers = token_for(make_user("member"))
    body = {"title": "井盖松动", "category": "roads", "lon": 104.02, "lat": 30.05}
    statements.clear()
    response = client.post("/api/v1/issues", json=body, headers=headers)
    assert response.status_code == 201
    # user; category; placement; ref and areas; issue, event, audit; duplicates
    assert len(statements) == 8, "\n".join(s[:90] for s in statements)
    props = response.get_json()["properties"]
    assert (props["village_code"], props["township_code"]) == ("512099001001", "512099001000")
    assert props["village_name"] and props["township_name"] and props["photos"] == []
    assert props["category"] == "roads" and props["ref"].startswith("FW-")


def test_nearby_is_two_statements(client, make_user, token_for, small_county, statements):
    headers = token_for(make_user("member"))
    statements.clear()
    response = client.get("/api/v1/issues/nearby?lon=104.02&lat=30.05", headers=headers)
    assert response.status_code == 200
    assert len(statements) == 2, statements  # the user; the open problems near the point


def test_list_page_with_its_count_is_four_statements(
    client, make_user, token_for, small_county, statements, monkeypatch
):
    from fieldwatch import counting
    from fieldwatch.issues.services import report_issue

    monkeypatch.setattr(counting, "_has_statistics", lambda table: True)  # as in production
    monkeypatch.setattr(counting, "SLACK", 1e9)  # whatever this database's estimate says
    user = make_user("member")
    for i in range(3):
        report_issue(user, title=f"路灯{i}", category="roads", lon=104.02, lat=30.05)
    headers = token_for(user)
    statements.clear()
    body = client.get("/api/v1/issues?limit=2", headers=headers).get_json()
    assert body["numberMatched"] == 3 and body["numberReturned"] == 2
    # the user; the page; the planner's estimate; the count in its savepoint and budget
    assert len(statements) == 4, "\n".join(s[:90] for s in statements)
    statements.clear()
    last = client.get("/api/v1/issues?limit=5", headers=headers).get_json()
    assert last["numberMatched"] == 3 and len(statements) == 2  # the last page needs no count


# --- the pool: a connection the server closed is replaced without a failed request --
def test_pool_replaces_a_connection_the_server_closed(database_url):
    from fieldwatch import pool

    engine = sa.create_engine(database_url, pool_size=1, max_overflow=0)
    pool.install(engine)
    try:
        with engine.connect() as conn:
            first = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        # the connection now waits in the pool; the server ends it (a restart, an admin)
        with sa.create_engine(database_url, poolclass=sa.pool.NullPool).connect() as admin:
            assert admin.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the goodbye reaches the socket
            raw = engine.pool._pool.queue[0].dbapi_connection
            if pool._closed_by_server(raw):
                break
            time.sleep(0.02)
        with engine.connect() as conn:  # no OperationalError: a fresh connection
            second = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        engine.dispose()


def test_pool_keeps_a_live_connection(database_url):
    from fieldwatch import pool

    engine = sa.create_engine(database_url, pool_size=1, max_overflow=0)
    pool.install(engine)
    try:
        pids = set()
        for _ in range(3):
            with engine.connect() as conn:
                pids.add(conn.scalar(sa.text("SELECT pg_backend_pid()")))
        assert len(pids) == 1  # no reconnect, no ping: the same backend each time
    finally:
        engine.dispose()
