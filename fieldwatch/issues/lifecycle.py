"""The issue lifecycle table (DESIGN.md "Lifecycles → Issue"), as data.

One row per move: target status, the statuses it may start from, who may make
it, and what it requires. `services.transition` is the only code that applies it.
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN = ("reported", "accepted", "in_progress", "resolved")
STAFF = frozenset({"leader", "supervisor", "admin"})


@dataclass(frozen=True)
class Move:
    name: str
    to: str
    sources: tuple[str, ...]
    #: roles allowed; "unit_staff" means the unit's own staff; "followup" means only a look-back
    by: frozenset[str]
    requires: tuple[str, ...] = ()


MOVES: tuple[Move, ...] = (
    Move("accept", "accepted", ("reported",), STAFF),
    Move("assign", "in_progress", ("accepted",), STAFF, ("unit", "due_on")),
    Move("reassign", "in_progress", ("in_progress",), STAFF, ("unit",)),
    Move("resolve", "resolved", ("in_progress",), STAFF | {"unit_staff"}, ("answer_class", "note")),
    Move("reject", "rejected", ("reported", "accepted"), STAFF, ("reason",)),
    Move("duplicate", "duplicate", OPEN, STAFF, ("duplicate_of",)),
    Move("close_after_lookback", "closed", ("resolved",), frozenset({"followup"})),
    Move("close_class_c", "closed", ("resolved",), frozenset({"supervisor"}), ("note",)),
    Move("reopen", "in_progress", ("resolved", "closed"), frozenset({"followup"})),
)

TARGETS = tuple(sorted({m.to for m in MOVES}))


def moves_from(status: str, to: str) -> list[Move]:
    """Return the moves to `to` that may start from `status`."""
    return [m for m in MOVES if m.to == to and status in m.sources]
