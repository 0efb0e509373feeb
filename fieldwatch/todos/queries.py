"""Reads for the to-do page: a unit's problems near their due date, a leader's reopened ones."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from fieldwatch import clock
from fieldwatch.extensions import db

#: a unit's assigned problem shows up this many days before its due date
SOON_DAYS = 3

_UNIT_PROBLEMS = """
    SELECT i.id, i.ref, i.title, i.status, i.due_on, i.reopen_count,
           :today - i.due_on AS days_overdue, c.name AS category_name, t.name AS township_name
    FROM issues i
    LEFT JOIN categories c ON c.id = i.category_id
    LEFT JOIN areas t ON t.id = i.township_id
    WHERE i.unit_id = :unit AND i.status = 'in_progress' AND i.due_on <= :soon
    ORDER BY i.due_on, i.id
    LIMIT :limit
"""

_REOPENED = """
    SELECT i.id, i.ref, i.title, i.status, i.due_on, i.reopen_count,
           u.name AS unit_name, t.name AS township_name,
           (SELECT f.finding FROM followups f WHERE f.issue_id = i.id AND f.done_at IS NOT NULL
            ORDER BY f.done_at DESC LIMIT 1) AS last_finding
    FROM issues i
    LEFT JOIN units u ON u.id = i.unit_id
    LEFT JOIN areas t ON t.id = i.township_id
    WHERE i.reopen_count > 0 AND i.status IN ('in_progress', 'accepted', 'reported')
      AND (CAST(:township AS integer) IS NULL OR i.township_id = :township)
    ORDER BY i.due_on NULLS LAST, i.id
    LIMIT :limit
"""


def unit_problems(unit_id: int, limit: int = 200) -> list:
    """Return a unit's problems in progress that are due within SOON_DAYS or overdue."""
    today = clock.today()
    return db.session.execute(
        text(_UNIT_PROBLEMS),
        {
            "unit": unit_id,
            "today": today,
            "soon": today + timedelta(days=SOON_DAYS),
            "limit": limit,
        },
    ).all()


def reopened_problems(township_id: int | None, limit: int = 200) -> list:
    """Return open problems a look-back sent back for rework (a leader follows them up)."""
    return db.session.execute(text(_REOPENED), {"township": township_id, "limit": limit}).all()
