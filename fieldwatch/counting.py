"""How many rows match, only when that is cheap to say (numberMatched of a page).

Counting the matches of a city-wide box means visiting every matching row (tens of
thousands scattered over the issues table: 20-200 ms), more than the page itself.
So: ask the planner first (EXPLAIN, no execution); above the cap there is no count.
Otherwise count at most `cap + 1` rows within a time budget, in a savepoint so that a
cancelled count leaves the request's transaction usable.
"""

from __future__ import annotations

from psycopg2.errors import QueryCanceled
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import ClauseElement

from fieldwatch.extensions import db

#: numberMatched is given up to this many matches ...
CAP = 10_000
#: ... when counting them takes at most this long
BUDGET_MS = 20
#: the planner's guess may be this many times too high before we skip the count
SLACK = 1.5


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


def count_matched(
    statement: ClauseElement, cap: int | None = None, budget_ms: int | None = None
) -> int | None:
    """Return how many rows `statement` (a select of the matches) yields, or None.

    None when the planner expects more than `cap` (times SLACK), when more than `cap`
    match, or when counting takes longer than `budget_ms`.
    """
    cap = CAP if cap is None else cap
    budget_ms = BUDGET_MS if budget_ms is None else budget_ms
    sql, params = driver_sql(statement)
    if estimated_rows(sql, params) > cap * SLACK:
        return None
    count = f"SELECT count(*) FROM ({sql} LIMIT {int(cap) + 1}) matched"
    try:
        with db.session.begin_nested():  # a cancelled count must not spoil the request
            conn = db.session.connection()  # asked inside: this emits the SAVEPOINT
            # one round trip for the limit and the count (psycopg2 returns the last result)
            budget = f"SET LOCAL statement_timeout = {int(budget_ms)}; "
            found = conn.exec_driver_sql(budget + count, params).scalar()
            conn.exec_driver_sql("SET LOCAL statement_timeout TO DEFAULT")
    except OperationalError as exc:
        if not isinstance(exc.orig, QueryCanceled):
            raise
        return None
    return None if found > cap else found
