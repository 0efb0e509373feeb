"""The connection pool: notice connections the server has closed without a round trip.

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` before every checkout: one more round
trip on every request, most of the fixed cost of a cheap API call. Instead, at
checkout we ask the kernel whether the idle connection's socket is readable. Between
transactions the server sends nothing on its own (we never LISTEN), so a readable
socket means it said goodbye: a shutdown or restart ("terminating connection ..."),
an idle-session timeout or an administrator's `pg_terminate_backend` (the message
and the end of the stream make it readable). Then this connection and every older
one in the pool are thrown away and a fresh one is opened, as a failed pre-ping
would. A connection that died silently (a network cut) fails its first statement
instead: the request answers 503 (fieldwatch.errors) and SQLAlchemy, seeing a
disconnect, invalidates the pool, so the next request reconnects. `pool_recycle`
renews connections older than half an hour, before firewalls forget them.
"""

from __future__ import annotations

import select

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidatePoolError


def _closed_by_server(dbapi_connection) -> bool:
    """Tell whether an idle psycopg2 connection has data or EOF waiting (it was closed)."""
    if getattr(dbapi_connection, "closed", 0):
        return True
    try:
        fd = dbapi_connection.fileno()
    except Exception:  # noqa: BLE001  no socket left
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _check_on_checkout(dbapi_connection, connection_record, connection_proxy) -> None:
    if _closed_by_server(dbapi_connection):
        raise InvalidatePoolError("the database server closed the connection")


def install(engine: Engine) -> None:
    """Check every checkout of `engine`'s pool for a connection the server closed."""
    if not event.contains(engine.pool, "checkout", _check_on_checkout):
        event.listen(engine.pool, "checkout", _check_on_checkout)
