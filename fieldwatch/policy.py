"""The one access policy: may this user do this action on this object?

Pages, the API and the CLI all ask `can(user, action, obj)`. Unknown actions
and anonymous users are refused (fail closed). Each feature adds its rules
here with `@rule("area.verb")`; a rule receives the user (never anonymous)
and the object (or None) and returns a bool.
"""

from __future__ import annotations

from collections.abc import Callable

from fieldwatch.errors_core import Forbidden

Rule = Callable[[object, object], bool]
_RULES: dict[str, Rule] = {}
#: actions open to anyone, signed in or not
PUBLIC: set[str] = set()

STAFF = frozenset({"admin", "leader", "supervisor"})
EVERYONE = frozenset({"admin", "leader", "member", "supervisor", "unit"})


def rule(action: str) -> Callable[[Rule], Rule]:
    """Register the rule for `action`."""

    def register(fn: Rule) -> Rule:
        if action in _RULES:
            raise ValueError(f"rule {action} defined twice")
        _RULES[action] = fn
        return fn

    return register


def roles(action: str, allowed: frozenset[str] | set[str]) -> None:
    """Register a rule that allows the given roles, whatever the object."""
    rule(action)(lambda user, obj: user.role in allowed)


def can(user, action: str, obj=None) -> bool:
    """Tell whether `user` may do `action` on `obj`; unknown actions are refused."""
    if action in PUBLIC:
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "active", True):
        return False
    check = _RULES.get(action)
    if check is None:
        return False
    return bool(check(user, obj))


def require(user, action: str, obj=None) -> None:
    """Raise Forbidden unless `user` may do `action` on `obj`."""
    if not can(user, action, obj):
        raise Forbidden("没有权限 (not allowed)")


def known_actions() -> list[str]:
    return sorted(_RULES)


def in_scope(user, township_id: int | None) -> bool:
    """Tell whether an object in `township_id` is within the user's township scope."""
    scope = getattr(user, "township_id", None)
    return scope is None or township_id == scope


def unit_scope(user, unit_id: int | None) -> bool:
    """Tell whether a unit user's department is `unit_id` (others: always)."""
    if user.role != "unit":
        return True
    return user.unit_id is not None and user.unit_id == unit_id


# --- foundation rules -------------------------------------------------------
roles("admin.users", {"admin"})
roles("admin.lists", {"admin"})
roles("admin.audit", {"admin"})
roles("areas.view", EVERYONE)
roles("areas.import", {"admin"})
roles("map.view", EVERYONE)
#: the categories and the responsible units (the report form and filters need them)
roles("lists.view", EVERYONE)

#: the list rule behind each layer of the main map and the vector tiles; the
#: rows are then cut by the kind's own rule (map.queries.Reader mirrors
#: issues.view, visits.view and followups.view in SQL)
MAP_LAYER_VIEW = {
    "townships": "areas.view",
    "villages": "areas.view",
    "stations": "stations.view",
    "issues": "issues.view",
    "visits": "visits.view",
    "followups": "followups.view",
}


@rule("map.layer")
def _map_layer(user, layer) -> bool:
    return can(user, "map.view") and layer in MAP_LAYER_VIEW and can(user, MAP_LAYER_VIEW[layer])


@rule("map.tiles")
def _map_tiles(user, layer) -> bool:
    return can(user, "map.layer", layer)


roles("api.token", EVERYONE)


@rule("users.edit")
def _edit_user(user, target) -> bool:
    return user.role == "admin" or (target is not None and target.id == user.id)


# --- issues -----------------------------------------------------------------
roles("issues.report", {"admin", "leader", "member", "supervisor"})
#: reporters' and residents' names and phones (PIPL): only those who act on them
roles("issues.view_contact", STAFF)
#: importing a problem ledger (台账) from a spreadsheet is the office's job
roles("issues.import", {"admin"})


@rule("issues.view")
def _view_issue(user, issue) -> bool:
    if issue is None:
        return True  # the list; rows are filtered by scope
    if user.role == "unit":
        return unit_scope(user, issue.unit_id)
    return in_scope(user, issue.township_id)


@rule("issues.comment")
def _comment_issue(user, issue) -> bool:
    return can(user, "issues.view", issue)


@rule("issues.add_photo")
def _photo_issue(user, issue) -> bool:
    if issue is None or not can(user, "issues.view", issue):
        return False
    return user.role in STAFF or user.id == issue.reporter_id or (user.role in ("member", "unit"))


@rule("issues.transition")
def _move_issue(user, issue) -> bool:
    """Whether the user may try moves at all; the lifecycle table decides each move."""
    if issue is None:
        return user.role in STAFF or user.role == "unit"
    if user.role == "unit":
        return unit_scope(user, issue.unit_id)
    return user.role in STAFF and in_scope(user, issue.township_id)


# --- stations and coverage ----------------------------------------------------
roles("stations.view", EVERYONE)
#: registering and editing stations is the office's job (a leader may not)
roles("stations.edit", {"admin"})
roles("coverage.view", EVERYONE)


# --- visits (现场协商) ------------------------------------------------------------
#: leaders plan, hold and cancel visits; the office (admin) may too
VISIT_PLANNERS = frozenset({"admin", "leader"})


def _invited(user, visit) -> bool:
    """Whether the visit lists the user (members) or the user's department (unit staff)."""
    participants = visit.participants or {}
    if user.role == "unit":
        unit = getattr(user, "unit", None)
        return unit is not None and unit.code in (participants.get("units") or [])
    return user.id == visit.leader_id or user.id in (participants.get("members") or [])


@rule("visits.view")
def _view_visit(user, visit) -> bool:
    if visit is None:
        return True  # the list; rows are filtered by the same rule in visits.queries
    if user.role in STAFF:
        return in_scope(user, visit.township_id) or user.id == visit.leader_id
    return _invited(user, visit)


@rule("visits.plan")
def _plan_visit(user, visit) -> bool:
    if user.role not in VISIT_PLANNERS:
        return False
    return visit is None or in_scope(user, visit.township_id) or user.id == visit.leader_id


@rule("visits.hold")
def _hold_visit(user, visit) -> bool:
    return _plan_visit(user, visit)


@rule("visits.cancel")
def _cancel_visit(user, visit) -> bool:
    return _plan_visit(user, visit)


@rule("visits.add_photo")
def _photo_visit(user, visit) -> bool:
    """Photos of a visit: its planners, and the members invited to it."""
    if visit is None:
        return user.role in VISIT_PLANNERS or user.role == "member"
    return _plan_visit(user, visit) or (user.role == "member" and _invited(user, visit))


# --- look-backs (回头看), places, to-dos ----------------------------------------
#: who goes back and records a look-back; never the unit whose work is checked
#: (conflict of interest), nor the office (admin), which schedules
LOOKBACK_RECORDERS = frozenset({"leader", "member", "supervisor"})
#: who adds extra look-backs and spot checks and assigns inspectors
LOOKBACK_SCHEDULERS = frozenset({"admin", "supervisor"})


def _lookback_unit(followup) -> int | None:
    issue = getattr(followup, "issue", None)
    return getattr(issue, "unit_id", None)


@rule("followups.view")
def _view_followup(user, followup) -> bool:
    if followup is None:
        return True  # the list; rows are filtered by the same rule in followups.queries
    if user.role == "unit":
        # a unit sees the look-backs of its own work (and records none of them)
        return getattr(followup, "issue_id", None) is not None and unit_scope(
            user, _lookback_unit(followup)
        )
    return in_scope(user, followup.township_id)


@rule("followups.record")
def _record_followup(user, followup) -> bool:
    if user.role not in LOOKBACK_RECORDERS:
        return False
    return followup is None or in_scope(user, followup.township_id)


@rule("followups.schedule")
def _schedule_followup(user, subject) -> bool:
    """Add or reassign a look-back; `subject` is an issue, a visit or a look-back."""
    if user.role not in LOOKBACK_SCHEDULERS:
        return False
    return subject is None or in_scope(user, getattr(subject, "township_id", None))


#: the supervisor's board: counters, ranking, map, export
roles("followups.board", {"admin", "leader", "supervisor"})
roles("todos.view", EVERYONE)
#: a place's history; its rows are filtered by each kind's own view rule
roles("places.view", EVERYONE)


# --- open interfaces: OGC API – Features and Open311 -----------------------------
#: the list rule each OGC layer follows (the rows of issues, visits and look-backs
#: are then filtered as their own view rules say)
LAYER_VIEW = {
    "townships": "areas.view",
    "villages": "areas.view",
    "village_offices": "areas.view",
    "stations": "stations.view",
    "issues": "issues.view",
    "visits": "visits.view",
    "followups": "followups.view",
}
#: layers FIELDWATCH_PUBLIC_LAYERS=1 opens to anyone: places and stations, no personal data
PUBLIC_LAYERS = frozenset({"townships", "villages", "village_offices", "stations"})


@rule("ogc.read")
def _read_layer(user, layer) -> bool:
    if layer is None:
        return True  # the landing page and the list; each layer is checked by name
    return layer in LAYER_VIEW and can(user, LAYER_VIEW[layer])


def can_read_layer(user, layer: str, public_layers: bool) -> bool:
    """Tell whether `user` (perhaps anonymous) may read an OGC layer, given the public setting."""
    return (public_layers and layer in PUBLIC_LAYERS) or can(user, "ogc.read", layer)


def issue_rows(user) -> dict[str, int]:
    """The limits `issues.view` puts on a list of issues, for queries to apply.

    {"unit_id": n} for a unit's staff (-1 when the user has no unit: nothing),
    {"township_id": n} for a township-scoped user, {} for everyone else.
    """
    if user.role == "unit":
        return {"unit_id": user.unit_id if user.unit_id is not None else -1}
    if getattr(user, "township_id", None) is not None:
        return {"township_id": user.township_id}
    return {}
