"""Reads about look-backs: the lists, the supervisor's board counters, the quarterly ranking.

Every counter is one set-based SQL statement. Dates are reckoned in
FIELDWATCH_TIMEZONE: a period is a range of local dates, turned into UTC
instants once so that the timestamp indexes are usable.

Definitions (DESIGN.md "Lifecycles → Look-back", and the board's own):
- due: not done and its date not passed; overdue: not done and its date passed;
- an issue is *open and overdue* when it is open past its `due_on` (reported,
  accepted, in progress) or resolved with a look-back overdue;
- *on time*: resolved by `due_on`, and, when a look-back closed it, that
  look-back done by its due date;
- on-time rate = on-time closed ÷ (closed + open and overdue), where closed
  counts issues closed in the period and open-and-overdue counts, as of today,
  the open issues reported before the period ended;
- rework (reopen) rate = look-backs on issues that found them not solved ÷ all
  look-backs on issues, done in the period;
- satisfaction = (satisfied + basically satisfied) ÷ look-backs that asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import text

from fieldwatch import clock
from fieldwatch.coverage.queries import coverage_by_township
from fieldwatch.extensions import db

STATES = ("due", "overdue", "done")
DIMENSIONS = ("township", "unit", "category")


@dataclass(frozen=True)
class Scope:
    """Which rows a reader may see: a township (scope or filter), a unit (role or filter)."""

    township_id: int | None = None
    unit_id: int | None = None

    @classmethod
    def of(cls, user, township_id: int | None = None, unit_id: int | None = None) -> Scope:
        """Combine the user's own scope with the filters chosen (the user's scope wins)."""
        own_township = getattr(user, "township_id", None)
        own_unit = getattr(user, "unit_id", None) if getattr(user, "role", "") == "unit" else None
        return cls(own_township or township_id, own_unit or unit_id)

    def params(self) -> dict:
        return {"scope_township": self.township_id, "scope_unit": self.unit_id}


@dataclass(frozen=True)
class Period:
    """Local dates [start, end] inclusive."""

    start: date
    end: date

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(), clock.zone())

    @property
    def end_utc(self) -> datetime:
        """The instant the period ends (exclusive)."""
        return datetime.combine(self.end + timedelta(days=1), time(), clock.zone())

    def params(self) -> dict:
        return {
            "start": self.start_utc,
            "end": self.end_utc,
            "start_day": self.start,
            "end_day": self.end,
        }


def quarter_of(day: date) -> Period:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    nxt = date(day.year + (first_month == 10), 1 if first_month == 10 else first_month + 3, 1)
    return Period(start, nxt - timedelta(days=1))


def parse_quarter(value: str | None) -> Period:
    """Parse '2026Q1' (or '2026-Q1'); default the current quarter."""
    if value:
        text_value = value.strip().upper().replace("-", "")
        if len(text_value) == 6 and text_value[:4].isdigit() and text_value[4] == "Q":
            number = text_value[5]
            if number in "1234" and 2000 <= int(text_value[:4]) <= 2100:
                return quarter_of(date(int(text_value[:4]), 3 * int(number) - 2, 1))
    return quarter_of(clock.today())


def quarter_label(period: Period) -> str:
    return f"{period.start.year}Q{(period.start.month - 1) // 3 + 1}"


def _tz() -> str:
    return current_app.config["FIELDWATCH_TIMEZONE"]


# --- lists ---------------------------------------------------------------------------
_SCOPE_F = """
    (CAST(:scope_township AS integer) IS NULL OR f.township_id = :scope_township)
    AND (CAST(:scope_unit AS integer) IS NULL OR i.unit_id = :scope_unit)
"""
_SCOPE_I = """
    (CAST(:scope_township AS integer) IS NULL OR i.township_id = :scope_township)
    AND (CAST(:scope_unit AS integer) IS NULL OR i.unit_id = :scope_unit)
"""
_STATE = {
    "due": "f.done_at IS NULL AND f.due_on >= :today",
    "overdue": "f.done_at IS NULL AND f.due_on < :today",
    "done": "f.done_at IS NOT NULL",
    "pending": "f.done_at IS NULL",
    None: "TRUE",
}
_ORDER = {
    "due": "f.due_on, f.id",
    "overdue": "f.due_on, f.id",
    "done": "f.done_at DESC, f.id DESC",
    "pending": "f.due_on, f.id",
    None: "(f.done_at IS NOT NULL), f.due_on, f.id",
}
_LIST = """
    SELECT f.id, f.issue_id, f.visit_id, f.kind, f.due_on, f.done_at, f.finding, f.on_site,
           f.distance_m, f.satisfaction, f.note, f.assignee_id, f.inspector_id,
           i.ref, COALESCE(i.title, v.title) AS title, i.status AS issue_status,
           i.answer_class, i.reopen_count,
           ST_X(COALESCE(i.location, vs.location)) AS lon,
           ST_Y(COALESCE(i.location, vs.location)) AS lat,
           t.code AS township_code, t.name AS township_name,
           u.code AS unit, u.name AS unit_name, c.name AS category_name,
           ins.name AS inspector_name, asg.name AS assignee_name,
           CASE WHEN f.done_at IS NULL AND f.due_on < :today THEN :today - f.due_on ELSE 0 END
               AS days_overdue,
           CASE WHEN f.done_at IS NOT NULL THEN 'done'
                WHEN f.due_on < :today THEN 'overdue' ELSE 'due' END AS state
    FROM followups f
    LEFT JOIN issues i ON i.id = f.issue_id
    LEFT JOIN visits v ON v.id = f.visit_id
    LEFT JOIN LATERAL (
        SELECT s.location FROM visit_stops s WHERE s.visit_id = f.visit_id
        ORDER BY s.position LIMIT 1
    ) vs ON TRUE
    LEFT JOIN areas t ON t.id = f.township_id
    LEFT JOIN units u ON u.id = i.unit_id
    LEFT JOIN categories c ON c.id = i.category_id
    LEFT JOIN users ins ON ins.id = f.inspector_id
    LEFT JOIN users asg ON asg.id = f.assignee_id
    WHERE {state} AND {scope} AND {extra}
    ORDER BY {order}
    LIMIT :limit OFFSET :offset
"""


def followups(
    scope: Scope,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
    *,
    assignee_id: int | None = None,
    mine_or_open_for: int | None = None,
    recordable: bool = False,
    issue_id: int | None = None,
    period: Period | None = None,
    due_until: date | None = None,
) -> tuple[list, bool]:
    """Return (rows, more) of look-backs in scope, filtered by state and who should do them."""
    extra = ["TRUE"]
    params = {
        **scope.params(),
        "today": clock.today(),
        "limit": limit + 1,
        "offset": offset,
    }
    if assignee_id is not None:
        extra.append("f.assignee_id = :assignee")
        params["assignee"] = assignee_id
    if mine_or_open_for is not None:
        extra.append("(f.assignee_id = :me OR f.assignee_id IS NULL)")
        params["me"] = mine_or_open_for
    if recordable:
        extra.append("(f.issue_id IS NULL OR i.status IN ('resolved', 'closed'))")
    if issue_id is not None:
        extra.append("f.issue_id = :issue_id")
        params["issue_id"] = issue_id
    if period is not None:
        extra.append("f.done_at >= :start AND f.done_at < :end")
        params.update(period.params())
    if due_until is not None:
        extra.append("f.due_on <= :due_until")
        params["due_until"] = due_until
    sql = _LIST.format(
        state=_STATE[state], scope=_SCOPE_F, extra=" AND ".join(extra), order=_ORDER[state]
    )
    rows = db.session.execute(text(sql), params).all()
    return rows[:limit], len(rows) > limit


def followup_row(followup_id: int):
    """Return one look-back as a list row (the API's item shape)."""
    sql = _LIST.format(state="f.id = :fid", scope="TRUE", extra="TRUE", order="f.id")
    return db.session.execute(
        text(sql), {"fid": followup_id, "today": clock.today(), "limit": 1, "offset": 0}
    ).one_or_none()


_CLASS_C = f"""
    SELECT i.id, i.ref, i.title, i.resolved_at, t.name AS township_name, u.name AS unit_name,
           (SELECT e.note FROM issue_events e WHERE e.issue_id = i.id AND e.to_status = 'resolved'
            ORDER BY e.id DESC LIMIT 1) AS answer
    FROM issues i
    LEFT JOIN areas t ON t.id = i.township_id
    LEFT JOIN units u ON u.id = i.unit_id
    WHERE i.status = 'resolved' AND i.answer_class = 'C' AND {_SCOPE_I}
      AND NOT EXISTS (SELECT 1 FROM followups f WHERE f.issue_id = i.id AND f.done_at IS NULL)
    ORDER BY i.resolved_at, i.id
    LIMIT :limit
"""


def class_c_to_review(scope: Scope, limit: int = 200) -> list:
    """Return resolved class C answers no look-back is planned for (a supervisor reviews them)."""
    return db.session.execute(text(_CLASS_C), {**scope.params(), "limit": limit}).all()


def count_class_c(scope: Scope) -> int:
    """Count the class C answers waiting for a supervisor's review."""
    sql = f"SELECT count(*) FROM ({_CLASS_C}) q"
    return db.session.scalar(text(sql), {**scope.params(), "limit": None})


_INSPECTORS = """
    SELECT u.id, u.name, u.login, u.role FROM users u
    WHERE u.active AND u.role IN ('member', 'leader', 'supervisor')
      AND (u.township_id IS NULL OR u.township_id = CAST(:township AS integer))
    ORDER BY CASE u.role WHEN 'member' THEN 0 WHEN 'leader' THEN 1 ELSE 2 END, u.name, u.id
"""


def inspectors(township_id: int | None) -> list:
    """Return who may be sent to look back at a place in `township_id` (for the assign list)."""
    return db.session.execute(text(_INSPECTORS), {"township": township_id}).all()


def week_end(day: date) -> date:
    """Return the Sunday of the week holding `day`."""
    return day + timedelta(days=6 - day.weekday())


# --- the board -------------------------------------------------------------------------
_OPEN_OVERDUE = """
    ((i.status IN ('reported', 'accepted', 'in_progress') AND i.due_on < :today)
     OR (i.status = 'resolved' AND EXISTS (
            SELECT 1 FROM followups o
            WHERE o.issue_id = i.id AND o.done_at IS NULL AND o.due_on < :today)))
"""
#: a look-back someone can go and do now (its problem is resolved or closed, or it is a visit's)
_ACTIONABLE = "(f.issue_id IS NULL OR i.status IN ('resolved', 'closed'))"
_HEADLINE = f"""
    SELECT
      count(*) FILTER (WHERE f.done_at IS NULL AND {_ACTIONABLE}
                       AND f.due_on BETWEEN :today AND :week_end) AS due_this_week,
      count(*) FILTER (WHERE f.done_at IS NULL AND {_ACTIONABLE} AND f.due_on < :today) AS overdue,
      count(*) FILTER (WHERE f.done_at >= :start AND f.done_at < :end) AS done,
      count(*) FILTER (WHERE f.done_at >= :start AND f.done_at < :end AND NOT f.on_site)
          AS off_site,
      count(*) FILTER (WHERE f.done_at IS NULL AND NOT {_ACTIONABLE}) AS waiting_rework
    FROM followups f LEFT JOIN issues i ON i.id = f.issue_id
    WHERE {_SCOPE_F}
      AND (CAST(:scope_unit AS integer) IS NULL OR f.issue_id IS NOT NULL)
"""


def headline(scope: Scope, period: Period) -> dict:
    """Return the board's top counts: due this week, overdue, done and off-site in the period.

    Due and overdue count the look-backs someone can do now; those whose problem is
    back with its unit for rework are counted apart (`waiting_rework`).
    """
    today = clock.today()
    row = db.session.execute(
        text(_HEADLINE),
        {**scope.params(), **period.params(), "today": today, "week_end": week_end(today)},
    ).one()
    counts = dict(row._mapping)
    counts["class_c"] = count_class_c(scope)
    return counts


_KEYS = {
    "township": ("i.township_id", "f.township_id", "areas", "level = 'township'"),
    "unit": ("i.unit_id", "i.unit_id", "units", "FALSE"),
    "category": ("i.category_id", "i.category_id", "categories", "FALSE"),
}
_BREAKDOWN = """
WITH closes AS (
    SELECT {ikey} AS k, i.created_at, i.closed_at, i.resolved_at, i.due_on, lc.move, lc.followup_id
    FROM issues i
    CROSS JOIN LATERAL (
        SELECT e.data->>'move' AS move, CAST(e.data->>'followup_id' AS integer) AS followup_id
        FROM issue_events e WHERE e.issue_id = i.id AND e.to_status = 'closed'
        ORDER BY e.id DESC LIMIT 1
    ) lc
    WHERE i.status = 'closed' AND i.closed_at >= :start AND i.closed_at < :end AND {scope_i}
), closed AS (
    SELECT c.k, count(*) AS closed,
        count(*) FILTER (WHERE c.move = 'close_after_lookback') AS closed_after_lookback,
        count(*) FILTER (WHERE
            (c.due_on IS NULL OR CAST(c.resolved_at AT TIME ZONE :tz AS date) <= c.due_on)
            AND (c.followup_id IS NULL OR CAST(cf.done_at AT TIME ZONE :tz AS date) <= cf.due_on)
        ) AS on_time_closed,
        avg(EXTRACT(EPOCH FROM c.closed_at - c.created_at) / 86400.0) AS avg_days_to_close
    FROM closes c LEFT JOIN followups cf ON cf.id = c.followup_id
    GROUP BY c.k
), resolved AS (
    SELECT {ikey} AS k, count(DISTINCT e.issue_id) AS resolved
    FROM issue_events e JOIN issues i ON i.id = e.issue_id
    WHERE e.kind = 'status' AND e.to_status = 'resolved'
      AND e.created_at >= :start AND e.created_at < :end AND {scope_i}
    GROUP BY 1
), overdue AS (
    SELECT {ikey} AS k, count(*) AS open_overdue
    FROM issues i
    WHERE i.created_at < :end AND {scope_i} AND {open_overdue}
    GROUP BY 1
), looks AS (
    SELECT {fkey} AS k, count(*) AS lookbacks_done,
        count(*) FILTER (WHERE f.issue_id IS NOT NULL) AS issue_lookbacks,
        count(*) FILTER (WHERE f.issue_id IS NOT NULL AND f.finding <> 'solved') AS reopened,
        count(*) FILTER (WHERE NOT f.on_site) AS off_site,
        count(*) FILTER (WHERE CAST(f.done_at AT TIME ZONE :tz AS date) <= f.due_on)
            AS lookbacks_on_time,
        count(*) FILTER (WHERE f.satisfaction = 'satisfied') AS satisfied,
        count(*) FILTER (WHERE f.satisfaction = 'basically_satisfied') AS basically_satisfied,
        count(*) FILTER (WHERE f.satisfaction = 'dissatisfied') AS dissatisfied
    FROM followups f LEFT JOIN issues i ON i.id = f.issue_id
    WHERE f.done_at >= :start AND f.done_at < :end AND {scope_f}
      AND (CAST(:scope_unit AS integer) IS NULL OR f.issue_id IS NOT NULL)
    GROUP BY 1
), keys AS (
    SELECT k FROM closed UNION SELECT k FROM resolved UNION SELECT k FROM overdue
    UNION SELECT k FROM looks
    UNION SELECT g.id FROM {table} g
    WHERE {all_rows} AND (CAST(:scope_township AS integer) IS NULL OR g.id = :scope_township)
)
SELECT keys.k AS key_id, g.code, g.name,
    COALESCE(r.resolved, 0) AS resolved,
    COALESCE(c.closed, 0) AS closed,
    COALESCE(c.closed_after_lookback, 0) AS closed_after_lookback,
    COALESCE(c.on_time_closed, 0) AS on_time_closed,
    c.avg_days_to_close,
    COALESCE(o.open_overdue, 0) AS open_overdue,
    COALESCE(l.lookbacks_done, 0) AS lookbacks_done,
    COALESCE(l.issue_lookbacks, 0) AS issue_lookbacks,
    COALESCE(l.reopened, 0) AS reopened,
    COALESCE(l.off_site, 0) AS off_site,
    COALESCE(l.lookbacks_on_time, 0) AS lookbacks_on_time,
    COALESCE(l.satisfied, 0) AS satisfied,
    COALESCE(l.basically_satisfied, 0) AS basically_satisfied,
    COALESCE(l.dissatisfied, 0) AS dissatisfied
FROM keys
LEFT JOIN {table} g ON g.id = keys.k
LEFT JOIN closed c ON c.k IS NOT DISTINCT FROM keys.k
LEFT JOIN resolved r ON r.k IS NOT DISTINCT FROM keys.k
LEFT JOIN overdue o ON o.k IS NOT DISTINCT FROM keys.k
LEFT JOIN looks l ON l.k IS NOT DISTINCT FROM keys.k
ORDER BY (keys.k IS NULL), g.code, g.name
"""

COUNTS = (
    "resolved",
    "closed",
    "closed_after_lookback",
    "on_time_closed",
    "open_overdue",
    "lookbacks_done",
    "issue_lookbacks",
    "reopened",
    "off_site",
    "lookbacks_on_time",
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
)


def _ratio(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def with_rates(row: dict) -> dict:
    """Add the rates (percent, one decimal; None when there is nothing to divide by)."""
    answered = row["satisfied"] + row["basically_satisfied"] + row["dissatisfied"]
    row["rework_rate"] = _ratio(row["reopened"], row["issue_lookbacks"])
    row["on_time_rate"] = _ratio(row["on_time_closed"], row["closed"] + row["open_overdue"])
    row["satisfaction_pct"] = _ratio(row["satisfied"] + row["basically_satisfied"], answered)
    row["satisfaction_answers"] = answered
    if row.get("avg_days_to_close") is not None:
        row["avg_days_to_close"] = round(float(row["avg_days_to_close"]), 1)
    return row


def breakdown(scope: Scope, period: Period, by: str = "township") -> tuple[list[dict], dict]:
    """Return the board's counters per township, unit or category, and the totals row."""
    if by not in _KEYS:
        raise ValueError(by)
    ikey, fkey, table, all_rows = _KEYS[by]
    sql = _BREAKDOWN.format(
        ikey=ikey,
        fkey=fkey,
        table=table,
        all_rows=all_rows,
        scope_i=_SCOPE_I,
        scope_f=_SCOPE_F,
        open_overdue=_OPEN_OVERDUE,
    )
    params = {**scope.params(), **period.params(), "today": clock.today(), "tz": _tz()}
    rows = [with_rates(dict(r._mapping)) for r in db.session.execute(text(sql), params)]
    totals = {name: sum(r[name] for r in rows) for name in COUNTS}
    weighted = sum((r["avg_days_to_close"] or 0) * r["closed"] for r in rows)
    totals["avg_days_to_close"] = weighted / totals["closed"] if totals["closed"] else None
    return rows, with_rates(totals)


# --- the map ---------------------------------------------------------------------------
_PROBLEMS = f"""
    SELECT i.id, i.ref, i.title, i.status, i.due_on, i.reopen_count,
           ST_X(i.location) AS lon, ST_Y(i.location) AS lat,
           {_OPEN_OVERDUE} AS overdue, i.reopen_count > 0 AS reopened
    FROM issues i
    WHERE i.status NOT IN ('closed', 'rejected', 'duplicate') AND {_SCOPE_I}
      AND (i.reopen_count > 0 OR {_OPEN_OVERDUE})
    ORDER BY i.due_on NULLS LAST, i.id
    LIMIT :limit
"""


def problems_to_watch(scope: Scope, limit: int = 500) -> list:
    """Return open problems that are overdue or were reopened by a look-back (for the map)."""
    return db.session.execute(
        text(_PROBLEMS), {**scope.params(), "today": clock.today(), "limit": limit}
    ).all()


# --- the quarterly township ranking (季考季评) --------------------------------------------
_RANKING = f"""
WITH t AS (
    SELECT a.id, a.code, a.name FROM areas a
    WHERE a.level = 'township'
      AND (CAST(:scope_township AS integer) IS NULL OR a.id = :scope_township)
), held AS (
    SELECT t.id AS tid, count(DISTINCT v.id) AS visits
    FROM visits v
    LEFT JOIN visit_stops s ON s.visit_id = v.id
    JOIN t ON t.id = v.township_id OR t.id = s.township_id
    WHERE v.status = 'held' AND v.held_on BETWEEN :start_day AND :end_day
    GROUP BY t.id
), closed AS (
    SELECT i.township_id AS tid, count(*) AS closed FROM issues i
    WHERE i.status = 'closed' AND i.closed_at >= :start AND i.closed_at < :end
    GROUP BY 1
), overdue AS (
    SELECT i.township_id AS tid, count(*) AS open_overdue FROM issues i
    WHERE i.created_at < :end AND {_OPEN_OVERDUE}
    GROUP BY 1
), looks AS (
    SELECT f.township_id AS tid, count(*) AS lookbacks_due,
        count(*) FILTER (WHERE f.done_at IS NOT NULL
                         AND CAST(f.done_at AT TIME ZONE :tz AS date) <= f.due_on) AS on_time
    FROM followups f LEFT JOIN issues i ON i.id = f.issue_id
    WHERE f.due_on BETWEEN :start_day AND :end_day AND f.due_on < :today
      AND (f.done_at IS NOT NULL OR {_ACTIONABLE})
    GROUP BY 1
)
SELECT t.id, t.code, t.name,
    COALESCE(h.visits, 0) AS visits,
    COALESCE(c.closed, 0) AS closed, COALESCE(o.open_overdue, 0) AS open_overdue,
    COALESCE(l.lookbacks_due, 0) AS lookbacks_due, COALESCE(l.on_time, 0) AS lookbacks_on_time
FROM t
LEFT JOIN held h ON h.tid = t.id
LEFT JOIN closed c ON c.tid = t.id
LEFT JOIN overdue o ON o.tid = t.id
LEFT JOIN looks l ON l.tid = t.id
ORDER BY t.code
"""
COMPONENTS = ("coverage", "visits", "closed", "lookbacks_on_time")


def ranking(period: Period, scope: Scope | None = None, weights: dict | None = None) -> list[dict]:
    """Score and rank townships for a quarter (季考季评); see README "The supervisor's board".

    Each component is a share, 0–1: coverage = villages served by an open station
    at the quarter's end (or today); visits = visits held ÷ the most any township
    held; closed = problems closed ÷ (closed + open and overdue); look-backs on
    time = look-backs due in the quarter (and already due) done by their date, not
    counting those whose problem is still back with its unit for rework.
    The score is the weighted mean over the components that have data, × 100.
    """
    scope = scope or Scope()
    weights = weights or current_app.config["RANKING_WEIGHTS"]
    today = clock.today()
    params = {
        **scope.params(),
        **period.params(),
        "as_of": min(period.end, today),
        "today": today,
        "tz": _tz(),
    }
    rows = [dict(r._mapping) for r in db.session.execute(text(_RANKING), params)]
    # coverage is the coverage area's own query (DESIGN.md "Coverage"), on the same day
    coverage = {t.code: t for t in coverage_by_township(params["as_of"]).townships}
    for row in rows:
        place = coverage.get(row["code"])
        row["villages"] = place.villages + place.communities if place else 0
        row["covered"] = place.covered if place else 0
    most_visits = max((r["visits"] for r in rows), default=0)
    for row in rows:
        shares = {
            "coverage": row["covered"] / row["villages"] if row["villages"] else None,
            "visits": row["visits"] / most_visits if most_visits else None,
            "closed": row["closed"] / (row["closed"] + row["open_overdue"])
            if row["closed"] + row["open_overdue"]
            else None,
            "lookbacks_on_time": row["lookbacks_on_time"] / row["lookbacks_due"]
            if row["lookbacks_due"]
            else None,
        }
        row["shares"] = {k: None if v is None else round(100 * v, 1) for k, v in shares.items()}
        used = {k: float(weights.get(k, 0)) for k, v in shares.items() if v is not None}
        total_weight = sum(used.values())
        row["score"] = (
            round(100 * sum(shares[k] * w for k, w in used.items()) / total_weight, 1)
            if total_weight
            else None
        )
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), r["code"]))
    rank = 0
    previous = object()
    for position, row in enumerate(rows, start=1):
        if row["score"] != previous:
            rank, previous = position, row["score"]
        row["rank"] = rank if row["score"] is not None else None
    return rows
