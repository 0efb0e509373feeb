"""Writes about places: create or update an area by code."""

from __future__ import annotations

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, Polygon
from sqlalchemy import select

from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db
from fieldwatch.models import Area
from fieldwatch.models.places import AREA_LEVELS, TOWNSHIP_KINDS, VILLAGE_KINDS

#: the Chinese words imports accept for kinds
KIND_WORDS = {
    "镇": "town",
    "乡": "xiang",
    "街道": "subdistrict",
    "街道办事处": "subdistrict",
    "村": "village",
    "行政村": "village",
    "社区": "community",
    "居委会": "community",
    "村委会": "village",
}


class _Keep:
    """Marker: leave the stored value as it is."""

    def __repr__(self) -> str:
        return "KEEP"


#: pass as `boundary` or `location` to `upsert_area` to keep what is stored
KEEP = _Keep()


def normalize_kind(level: str, kind: str | None) -> str | None:
    """Return the English kind code for a level, accepting the Chinese words."""
    if kind is None or kind == "":
        return None
    kind = KIND_WORDS.get(kind.strip(), kind.strip())
    allowed = {"township": TOWNSHIP_KINDS, "village": VILLAGE_KINDS}.get(level, ())
    if kind not in allowed:
        raise ValidationError(
            f"未知类型 {kind!r} (unknown kind)", {"kind": [f"可选: {', '.join(allowed)}"]}
        )
    return kind


def upsert_area(
    code: str,
    name: str,
    level: str,
    kind: str | None = None,
    parent_code: str | None = None,
    boundary: Polygon | MultiPolygon | _Keep | None = None,
    location: Point | _Keep | None = None,
) -> Area:
    """Create the area with this code, or update it; flush.

    Without a `location`, a new boundary's representative point stands in for the
    office; `KEEP` leaves the stored boundary or location untouched.
    """
    if level not in AREA_LEVELS:
        raise ValidationError(f"未知层级 {level!r}", {"level": [f"可选: {', '.join(AREA_LEVELS)}"]})
    if not (isinstance(code, str) and len(code) == 12 and code.isdigit()):
        raise ValidationError(f"编码必须是 12 位数字: {code!r}", {"code": ["12 位统计用区划代码"]})
    parent = None
    if parent_code:
        parent = db.session.scalar(select(Area).where(Area.code == parent_code))
        if parent is None:
            raise ValidationError(
                f"上级编码 {parent_code} 不存在 (unknown parent)", {"parent": [parent_code]}
            )
    area = db.session.scalar(select(Area).where(Area.code == code))
    if area is None:
        area = Area(code=code)
        db.session.add(area)
    area.name = name
    area.level = level
    area.kind = normalize_kind(level, kind)
    area.parent_id = parent.id if parent else None
    if isinstance(boundary, Polygon):
        boundary = MultiPolygon([boundary])
    if boundary is not KEEP:
        area.boundary = from_shape(boundary, srid=4326) if boundary is not None else None
    if location is None and boundary is not None and boundary is not KEEP:
        location = boundary.representative_point()
    if location is not KEEP:
        area.location = from_shape(location, srid=4326) if location is not None else None
    db.session.flush()
    return area
