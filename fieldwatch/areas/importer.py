"""Import townships or villages from GeoJSON, Shapefile (.shp or .zip) or GeoPackage.

All or nothing: every feature is read and checked before anything is written, and
the caller commits once (or rolls back on the first error). Geometry is transformed
from the file's CRS (or `srid`) to WGS-84; invalid polygons are repaired with
`make_valid`, keeping the polygonal parts; villages given only as office points are
accepted. Re-importing the same codes updates them.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select

from fieldwatch.areas.services import KEEP, normalize_kind, upsert_area
from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db
from fieldwatch.models import Area

FORMATS = (".geojson", ".json", ".shp", ".zip", ".gpkg")
#: field names tried, in order, when no field is named (case does not matter)
FIELD_GUESSES = {
    "code": ("code", "区划代码", "统计用区划代码", "代码", "qhdm", "xzqdm", "adcode", "dm"),
    "name": ("name", "名称", "区划名称", "xzqmc", "qhmc", "mc"),
    "parent": ("parent", "parent_code", "上级代码", "上级编码", "sjdm", "parentcode"),
    "kind": ("kind", "类型", "类别"),
}
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


@dataclass(frozen=True)
class FieldMap:
    """Which attribute holds what (None: guess from the usual names)."""

    code: str | None = None
    name: str | None = None
    parent: str | None = None
    kind: str | None = None


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
    with _readable(Path(path)) as source:
        meta, geometries, columns = _read(source, layer, encoding)
    crs = _source_crs(meta.get("crs"), srid)
    names = list(meta["fields"])
    mapping = _resolve_fields(fields or FieldMap(), names)
    to_wgs84 = _transformer(crs)
    problems = _Problems()
    rows: list[_Row] = []
    repaired = 0
    seen: dict[str, int] = {}
    for i, wkb in enumerate(geometries):
        index = i + 1
        value = {key: _text(columns[names.index(col)][i]) if col else None
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
        geometry, problem, fixed = _geometry(wkb, to_wgs84)
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
    return _write(rows, level, existing, repaired, _crs_label(crs))


# --- reading ------------------------------------------------------------------------
@contextmanager
def _readable(path: Path) -> Iterator[str]:
    """Yield a path GDAL can open: a zip's one data file through /vsizip/."""
    if not path.is_file():
        raise ValidationError(f"找不到文件 {path} (no such file)", {"file": [str(path)]})
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValidationError(
            f"不支持的文件类型 {suffix or path.name} (unsupported format)",
            {"file": ["GeoJSON, Shapefile (.shp / .zip), GeoPackage (.gpkg)"]},
        )
    if suffix != ".zip":
        yield str(path)
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if not n.startswith(("__MACOSX/", "."))]
    except zipfile.BadZipFile:
        raise ValidationError("压缩包已损坏 (not a zip file)", {"file": [path.name]}) from None
    data = [m for m in members if Path(m).suffix.lower() in (".shp", ".gpkg", ".geojson", ".json")]
    if len(data) != 1:
        found = ", ".join(data) or "-"
        raise ValidationError(
            f"压缩包里应有且只有一个 .shp / .gpkg / .geojson 文件，找到: {found}",
            {"file": ["one .shp (with .dbf, .shx, .prj), .gpkg or .geojson per zip"]},
        )
    yield f"/vsizip/{path.resolve()}/{data[0]}"


def _read(source: str, layer: str | None, encoding: str | None):
    import pyogrio.raw
    from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

    try:
        meta, _fids, geometries, columns = pyogrio.raw.read(
            source, layer=layer, encoding=encoding, force_2d=True
        )
    except (DataSourceError, DataLayerError, FieldError, GeometryError) as exc:
        reason = str(exc).splitlines()[0]
        raise ValidationError(f"无法读取文件 (cannot read): {reason}", {"file": [reason]}) from None
    return meta, geometries, columns


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)  # codes stored as numbers in a .dbf
    text = str(value).strip()
    return text or None


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


def _resolve_fields(fields: FieldMap, names: list[str]) -> dict[str, str | None]:
    """Match the wanted fields to the file's (case-insensitive); code and name are required."""
    by_lower = {n.lower(): n for n in names}
    out: dict[str, str | None] = {}
    for key in ("code", "name", "parent", "kind"):
        wanted = getattr(fields, key)
        if wanted:
            if wanted.lower() not in by_lower:
                raise ValidationError(
                    f"文件中没有字段 {wanted} (no such field); 现有字段: {', '.join(names)}",
                    {f"{key}_field": [f"现有字段: {', '.join(names)}"]},
                )
            out[key] = by_lower[wanted.lower()]
        else:
            out[key] = next((by_lower[g] for g in FIELD_GUESSES[key] if g in by_lower), None)
        if key in ("code", "name") and out[key] is None:
            raise ValidationError(
                f"找不到{'编码' if key == 'code' else '名称'}字段，请用 --{key}-field 指定; "
                f"现有字段: {', '.join(names)}",
                {f"{key}_field": [f"现有字段: {', '.join(names)}"]},
            )
    return out


# --- coordinates and geometry ---------------------------------------------------------
def _source_crs(declared: str | None, srid: int | None) -> CRS | None:
    try:
        if srid:
            return CRS.from_epsg(int(srid))
        return CRS.from_user_input(declared) if declared else None
    except CRSError:
        raise ValidationError(
            f"未知坐标系 {srid or declared} (unknown CRS)", {"srid": ["EPSG 代码, 如 4490"]}
        ) from None


def _crs_label(crs: CRS | None) -> str:
    if crs is None:
        return "lon/lat (no CRS in the file)"
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def _transformer(crs: CRS | None):
    """Return a function taking an (n, 2) array to WGS-84 lon/lat, or None for no change."""
    if crs is None or crs.equals(CRS.from_epsg(4326)):
        return None
    transformer = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)

    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return apply


def _polygonal(geom: BaseGeometry) -> MultiPolygon | None:
    """The polygonal parts of a geometry as a MultiPolygon (None when there are none)."""
    if geom.geom_type == "Polygon":
        parts = [geom]
    elif geom.geom_type == "MultiPolygon":
        parts = list(geom.geoms)
    elif geom.geom_type == "GeometryCollection":
        parts = [p for g in geom.geoms if (m := _polygonal(g)) for p in m.geoms]
    else:
        parts = []
    parts = [p for p in parts if not p.is_empty and p.area > 0]
    return MultiPolygon(parts) if parts else None


def _geometry(wkb, to_wgs84) -> tuple[MultiPolygon | Point | None, str | None, int]:
    """Return (geometry in WGS-84, problem or None, 1 if repaired else 0)."""
    if wkb is None:
        return None, "没有几何 (no geometry)", 0
    geom = shapely.from_wkb(wkb)
    if geom.is_empty:
        return None, "几何为空 (empty geometry)", 0
    if to_wgs84 is not None:
        geom = shapely.transform(geom, to_wgs84)
    x0, y0, x1, y1 = geom.bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        return (
            None,
            "坐标超出经纬度范围，坐标系不对？请用 --srid 指定 (coordinates out of range)",
            0,
        )
    kind = geom.geom_type
    if kind == "MultiPoint" and len(geom.geoms) == 1:
        geom, kind = geom.geoms[0], "Point"
    if kind == "Point":
        return geom, None, 0
    if kind not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        return None, f"几何应为面或点，而不是 {kind} (expected polygons or a point)", 0
    if geom.is_valid:
        polygons = _polygonal(geom)
        if polygons is None:
            return None, "面积为零 (zero area)", 0
        return polygons, None, 0
    reason = shapely.is_valid_reason(geom)
    polygons = _polygonal(shapely.make_valid(geom))
    if polygons is None:
        return None, f"几何无效且无法修复 (invalid geometry, cannot repair: {reason})", 0
    return polygons, None, 1


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


def save_upload(storage, folder: str | None = None) -> Path:
    """Save an uploaded file (werkzeug FileStorage) to a temporary path with its suffix."""
    suffix = Path(storage.filename or "").suffix.lower()
    handle = tempfile.NamedTemporaryFile(suffix=suffix, dir=folder, delete=False)
    with handle:
        storage.save(handle)
    return Path(handle.name)


__all__ = ["FORMATS", "FieldMap", "ImportResult", "import_areas", "save_upload"]
