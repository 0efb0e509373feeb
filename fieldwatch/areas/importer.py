"""Import townships or villages from GeoJSON, Shapefile (.shp or .zip) or GeoPackage.

All or nothing: every feature is read and checked before anything is written, and
the caller commits once (or rolls back on the first error). Geometry is transformed
from the file's CRS (or `srid`) to WGS-84; invalid polygons are repaired with
`make_valid`, keeping the polygonal parts; villages given only as office points are
accepted. Re-importing the same codes updates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon, Point
from sqlalchemy import select

from fieldwatch.areas.geofiles import (
    FORMATS,
    FieldMap,
    clean_geometry,
    crs_label,
    read_features,
    readable,
    resolve_fields,
    save_upload,
    source_crs,
    text_value,
    to_wgs84,
)
from fieldwatch.areas.services import KEEP, normalize_kind, upsert_area
from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db
from fieldwatch.models import Area

#: name endings that tell the kind when the file has no kind field
NAME_SUFFIXES = {
    "township": (
        ("街道办事处", "subdistrict"),
        ("街道", "subdistrict"),
        ("镇", "town"),
        ("乡", "xiang"),
    ),
    "village": (
        ("社区", "community"),
        ("居委会", "community"),
        ("村委会", "village"),
        ("村", "village"),
    ),
}
PARENT_LEVEL = {"township": "county", "village": "township"}
MAX_ERRORS = 20


@dataclass
class ImportResult:
    level: str
    created: int = 0
    updated: int = 0
    polygons: int = 0
    points: int = 0
    repaired: int = 0
    source_crs: str = ""

    @property
    def total(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        noun = {"township": "townships", "village": "villages"}[self.level]
        return (
            f"imported {self.total} {noun}: {self.created} created, {self.updated} updated; "
            f"{self.polygons} with boundaries, {self.points} points only; "
            f"{self.repaired} repaired; from {self.source_crs}"
        )


@dataclass
class _Row:
    index: int  # 1-based, in file order
    code: str
    name: str
    kind: str | None
    parent_code: str | None
    parent_given: bool
    boundary: MultiPolygon | None
    location: Point | None


@dataclass
class _Problems:
    messages: list[str] = field(default_factory=list)

    def add(self, index: int, code: str | None, problem: str) -> None:
        where = f"要素 #{index}" + (f" (编码 {code})" if code else "")
        self.messages.append(f"{where}: {problem}")

    def raise_if_any(self) -> None:
        if not self.messages:
            return
        first, more = self.messages[0], len(self.messages) - 1
        message = first + (f"；另有 {more} 处错误 (and {more} more)" if more else "")
        raise ValidationError(message, {"file": self.messages[:MAX_ERRORS]})


def import_areas(
    path: str | Path,
    level: str,
    fields: FieldMap | None = None,
    srid: int | None = None,
    layer: str | None = None,
    encoding: str | None = None,
) -> ImportResult:
    """Create or update the areas in a boundary file by code; flush (the caller commits)."""
    if level not in PARENT_LEVEL:
        raise ValidationError(
            f"层级必须是 township 或 village: {level!r}", {"level": ["township | village"]}
        )
    with readable(Path(path)) as source:
        meta, geometries, columns = read_features(source, layer, encoding)
    crs = source_crs(meta.get("crs"), srid)
    names = list(meta["fields"])
    mapping = resolve_fields(fields or FieldMap(), names)
    transform = to_wgs84(crs)
    problems = _Problems()
    rows: list[_Row] = []
    repaired = 0
    seen: dict[str, int] = {}
    for i, wkb in enumerate(geometries):
        index = i + 1
        value = {key: text_value(columns[names.index(col)][i]) if col else None
                 for key, col in mapping.items()}  # fmt: skip
        code = _code(value["code"], level)
        if not code:
            problems.add(index, None, "缺少编码 (missing code)")
            continue
        if not (len(code) == 12 and code.isdigit()):
            problems.add(index, code, "编码必须是 12 位数字 (code must be 12 digits)")
            continue
        if code in seen:
            problems.add(index, code, f"编码与要素 #{seen[code]} 重复 (duplicate code)")
            continue
        seen[code] = index
        name = value["name"] or ""
        if not name:
            problems.add(index, code, "缺少名称 (missing name)")
            continue
        try:
            kind = (
                normalize_kind(level, value["kind"]) if value["kind"] else _kind_from(name, level)
            )
        except ValidationError as exc:
            problems.add(index, code, exc.message)
            continue
        parent = _code(value["parent"], PARENT_LEVEL[level]) if value["parent"] else None
        geometry, problem, fixed = clean_geometry(wkb, transform)
        if problem:
            problems.add(index, code, problem)
            continue
        repaired += fixed
        boundary = geometry if isinstance(geometry, MultiPolygon) else None
        location = geometry if isinstance(geometry, Point) else None
        rows.append(_Row(index, code, name, kind, parent, parent is not None, boundary, location))
    if not rows and not problems.messages:
        problems.messages.append("文件中没有要素 (the file has no features)")
    problems.raise_if_any()
    existing = _check_places(rows, level, problems)
    problems.raise_if_any()
    return _write(rows, level, existing, repaired, crs_label(crs))


def _code(value: str | None, level: str) -> str | None:
    """Normalize a division code; a 9-digit township code gets its '000' village part."""
    if not value:
        return None
    code = value.strip()
    if level == "township" and len(code) == 9 and code.isdigit():
        code += "000"
    if level == "county" and len(code) == 6 and code.isdigit():
        code += "000000"
    return code


def _kind_from(name: str, level: str) -> str | None:
    for suffix, kind in NAME_SUFFIXES[level]:
        if name.endswith(suffix):
            return kind
    return None


# --- checking against the database and writing ------------------------------------------
def _check_places(rows: list[_Row], level: str, problems: _Problems) -> dict[str, Area]:
    """Check parents and levels against the database; return the existing areas by code."""
    codes = [r.code for r in rows]
    existing = {
        a.code: a for a in db.session.scalars(select(Area).where(Area.code.in_(codes))).all()
    }
    for r in rows:
        if r.parent_code is None:  # the code itself says: digits 1-6 county, 7-9 township
            r.parent_code = r.code[:6] + "000000" if level == "township" else r.code[:9] + "000"
    wanted = {r.parent_code for r in rows}
    parents = {
        a.code: a for a in db.session.scalars(select(Area).where(Area.code.in_(wanted))).all()
    }
    for r in rows:
        area = existing.get(r.code)
        if area is not None and area.level != level:
            problems.add(
                r.index, r.code, f"该编码已是{area.level}级 (code exists at another level)"
            )
        parent = parents.get(r.parent_code)
        if parent is None:
            if level == "township" and not r.parent_given:
                r.parent_code = None  # no county loaded: a township may stand alone
                continue
            hint = "；请先导入乡镇 (import the townships first)" if level == "village" else ""
            problems.add(r.index, r.code, f"上级编码 {r.parent_code} 不存在 (unknown parent){hint}")
        elif parent.level != PARENT_LEVEL[level]:
            problems.add(
                r.index, r.code, f"上级 {r.parent_code} 不是{PARENT_LEVEL[level]}级 (wrong level)"
            )
    return existing


def _write(
    rows: list[_Row], level: str, existing: dict[str, Area], repaired: int, crs: str
) -> ImportResult:
    result = _count(rows, level, existing, repaired, crs)
    for r in rows:
        area = existing.get(r.code)
        kind = r.kind if r.kind is not None or area is None else area.kind
        if r.boundary is not None:
            # keep a known office point that still lies inside the new boundary
            office = (
                to_shape(area.location) if area is not None and area.location is not None else None
            )
            location = KEEP if office is not None and r.boundary.covers(office) else None
            upsert_area(r.code, r.name, level, kind, r.parent_code, r.boundary, location)
        else:  # an office point: the stored boundary (if any) stays
            upsert_area(r.code, r.name, level, kind, r.parent_code, KEEP, r.location)
    return result


def _count(rows, level, existing, repaired, crs) -> ImportResult:
    result = ImportResult(level=level, repaired=repaired, source_crs=crs)
    for r in rows:
        if r.code in existing:
            result.updated += 1
        else:
            result.created += 1
        if r.boundary is not None:
            result.polygons += 1
        else:
            result.points += 1
    return result


__all__ = ["FORMATS", "FieldMap", "ImportResult", "import_areas", "save_upload"]
