"""What every layer query shares: who is reading, the view's parameters, the row rules as SQL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from fieldwatch.policy import STAFF

#: at or below this zoom, point layers are counted per township
TOWNSHIP_ZOOM = 10
#: screen size of a cluster cell, pixels
CELL_PX = 60
#: villages are drawn from this zoom on (there are hundreds per county)
VILLAGE_MIN_ZOOM = 11
#: held visits and done look-backs stay on the map this long
HISTORY_DAYS = 90
MAX_FEATURES = 5000

ENV = "ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)"
OPEN = "status NOT IN ('closed', 'rejected', 'duplicate')"
#: a station is open on :today (established, not yet closed)
STATION_OPEN = (
    "(s.established_on IS NULL OR s.established_on <= :today)"
    " AND (s.closed_on IS NULL OR s.closed_on > :today)"
)


@dataclass(frozen=True)
class Reader:
    """Who is looking, as the values the row rules need in SQL."""

    user_id: int | None
    role: str
    #: the user's township scope (None: the whole county)
    township_id: int | None = None
    #: the department of a unit's staff
    unit_id: int | None = None
    unit_code: str | None = None

    @classmethod
    def of(cls, user) -> Reader:
        unit = getattr(user, "unit", None) if user.role == "unit" else None
        return cls(
            user.id,
            user.role,
            getattr(user, "township_id", None),
            getattr(user, "unit_id", None) if user.role == "unit" else None,
            getattr(unit, "code", None),
        )

    def params(self) -> dict:
        return {
            "user_id": self.user_id,
            "staff": self.role in STAFF,
            "unit_only": self.role == "unit",
            "scope_township": self.township_id,
            "scope_unit": self.unit_id,
            "scope_unit_code": self.unit_code,
        }


@dataclass(frozen=True)
class LayerResult:
    """A layer's features as a JSON array text, how they were thinned, and whether more exist."""

    features: str
    mode: str
    more: bool = False


def pixel_degrees(zoom: int) -> float:
    """Return the width of one screen pixel in degrees of longitude at `zoom`."""
    return 360.0 / (256 * 2**zoom)


def digits_for(zoom: int) -> int:
    """Return the decimals a boundary coordinate needs at `zoom` (half a pixel or better)."""
    return max(3, min(6, math.ceil(-math.log10(pixel_degrees(zoom) / 2))))


def view_params(bbox, zoom: int, reader: Reader, today: date, **extra) -> dict:
    x1, y1, x2, y2 = bbox
    mid_lat = math.radians(max(-85.0, min(85.0, (y1 + y2) / 2)))
    cell = CELL_PX * pixel_degrees(zoom)
    return {
        "x1": x1,
        "y1": y1,
        "x2": x2,
        "y2": y2,
        "today": today,
        # a screen cell is square: a degree of latitude is longer on Web Mercator
        "cx": cell,
        "cy": cell * math.cos(mid_lat),
        **reader.params(),
        **extra,
    }


def feature(id_sql: str, geom_sql: str, props_sql: str, digits: int = 6) -> str:
    return (
        f"json_build_object('type', 'Feature', 'id', {id_sql}, "
        f"'geometry', ST_AsGeoJSON({geom_sql}, {digits})::json, 'properties', {props_sql})"
    )


OVERDUE = "(i.status = 'in_progress' AND i.due_on < :today)"
REOPENED = f"(i.reopen_count > 0 AND i.{OPEN})"
#: the policy's issues.view: a unit's staff see their department's problems,
#: a township-scoped user the township's
ISSUE_SCOPE = """CASE WHEN :unit_only THEN i.unit_id = :scope_unit
        ELSE CAST(:scope_township AS integer) IS NULL OR i.township_id = :scope_township END"""
#: the policy's followups.view: a unit sees the look-backs of its own problems
FOLLOWUP_SCOPE = """CASE WHEN :unit_only THEN f.issue_id IS NOT NULL AND i.unit_id = :scope_unit
        ELSE CAST(:scope_township AS integer) IS NULL OR f.township_id = :scope_township END"""
#: the policy's visits.view: staff by township (or as leader), others when invited
VISIT_SCOPE = """CASE
        WHEN :staff THEN CAST(:scope_township AS integer) IS NULL
                         OR v.township_id = :scope_township OR v.leader_id = :user_id
        WHEN :unit_only THEN v.participants @> jsonb_build_object(
                         'units', jsonb_build_array(CAST(:scope_unit_code AS text)))
        ELSE v.leader_id = :user_id OR v.participants @> jsonb_build_object(
                         'members', jsonb_build_array(CAST(:user_id AS integer))) END"""
