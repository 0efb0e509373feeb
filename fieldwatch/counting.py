"""How many rows match, only when that is cheap to say (numberMatched of a page).

Counting the matches of a city-wide box means visiting every matching row (tens of
thousands scattered over the issues table: 20-200 ms), more than the page itself.
So: ask the planner first (EXPLAIN, no execution); above the cap there is no count.
Otherwise count at most `cap + 1` rows within a time budget, in a savepoint so that a
cancelled count leaves the request's transaction usable: two round trips in all.
"""

from __future__ import annotations

import time

from psycopg2.errors import QueryCanceled
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import ClauseElement

from fieldwatch.extensions import db

#: numberMatched is given up to this many matches ...
CAP = 10_000
#: ... when counting them takes at most this long
BUDGET_MS = 20
#: the planner's guess may be this many times too high before we skip the count
SLACK = 1.5
#: (database, table) -> (ask again after, has statistics)
_analyzed: dict[tuple[str, str], tuple[float, bool]] = {}


def driver_sql(statement: ClauseElement) -> tuple[str, dict]:
    """Compile a select or text() (with its bound values) for psycopg2."""
    compiled = statement.compile(
        dialect=db.session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    return str(compiled), dict(compiled.params)


def estimated_rows(sql: str, params: dict) -> float:
    """The planner's estimate of the rows `sql` returns (psycopg2 SQL)."""
    plan = db.session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, params)
    return float(plan.scalar()[0]["Plan"]["Plan Rows"])


def _has_statistics(table: str) -> bool:
    """Tell whether `table` was ever analyzed (else the planner guesses from its pages).

    A table never analyzed (a fresh database, a test run) gets row estimates from its
    size on disk, dead rows included: far too high after many rolled-back inserts.
    Known once true (statistics do not go away); asked again after a minute otherwise.
    """
    key = (str(db.session.get_bind().engine.url), table)
    now = time.monotonic()
    known = _analyzed.get(key)
    if known is not None and (known[1] or known[0] > now):
        return known[1]
    reltuples = db.session.scalar(
        text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)"), {"table": table}
    )
    found = reltuples is not None and reltuples >= 0
    _analyzed[key] = (now + 60, found)
    return found


def count_matched(
    statement: ClauseElement,
    table: str,
    cap: int | None = None,
    budget_ms: int | None = None,
) -> int | None:
    """Return how many rows `statement` (a select of the matches from `table`) yields, or None.

    None when the planner expects more than `cap` (times SLACK; asked only once the
    table has statistics), when more than `cap` match, or when counting takes longer
    than `budget_ms`.
    """
    cap = CAP if cap is None else cap
    budget_ms = BUDGET_MS if budget_ms is None else budget_ms
    sql, params = driver_sql(statement)
    if _has_statistics(table) and estimated_rows(sql, params) > cap * SLACK:
        return None
    conn = db.session.connection()
    count = f"SELECT count(*) FROM ({sql} LIMIT {int(cap) + 1}) matched"
    # One round trip: a savepoint (a cancelled count must not spoil the request), the
    # budget, the count (kept in a transaction-local setting), the budget lifted, the
    # count read back (psycopg2 returns the last result). The savepoint is left to the
    # transaction's end; it costs nothing.
    message = (
        "SAVEPOINT fieldwatch_count; "
        f"SET LOCAL statement_timeout = {int(budget_ms)}; "
        f"SELECT set_config('fieldwatch.matched', ({count})::text, true); "
        "SET LOCAL statement_timeout TO DEFAULT; "
        "SELECT current_setting('fieldwatch.matched')::bigint"
    )
    try:
        found = conn.exec_driver_sql(message, params).scalar()
    except OperationalError as exc:
        if not isinstance(exc.orig, QueryCanceled):
            raise
        # the timeout goes with the savepoint's rollback
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT fieldwatch_count")
        return None
    return None if found > cap else found
