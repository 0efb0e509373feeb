"""Offline writes carry a `client_id` (DESIGN.md): the same write sent again finds the first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldwatch.extensions import db


def insert_once(row, model):
    """Insert `row` in a savepoint; return the row already holding its client_id, else None.

    A request racing another with the same client_id loses at the unique index: the
    savepoint rolls back only this insert and the winner's row is returned. Any other
    integrity error (or one with no row to show for it) is raised.
    """
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        existing = None
        if row.client_id:
            existing = db.session.scalar(select(model).where(model.client_id == row.client_id))
        if existing is None:
            raise
        return existing
    return None
