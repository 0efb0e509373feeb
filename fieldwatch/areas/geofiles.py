"""Reading boundary files: formats, attribute fields, CRS and geometry repair.

GeoJSON, Shapefile (.shp, or a .zip holding one) and GeoPackage through pyogrio;
coordinates to WGS-84 with pyproj; invalid polygons repaired with `make_valid`,
keeping the polygonal parts. No database here: `importer` does the checking and
writing.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry

from fieldwatch.errors_core import ValidationError

FORMATS = (".geojson", ".json", ".shp", ".zip", ".gpkg")
#: field names tried, in order, when no field is named (case does not matter)
FIELD_GUESSES = {
    "code": ("code", "区划代码", "统计用区划代码", "代码", "qhdm", "xzqdm", "adcode", "dm"),
    "name": ("name", "名称", "区划名称", "xzqmc", "qhmc", "mc"),
    "parent": ("parent", "parent_code", "上级代码", "上级编码", "sjdm", "parentcode"),
    "kind": ("kind", "类型", "类别"),
}


@dataclass(frozen=True)
class FieldMap:
    """Which attribute holds what (None: guess from the usual names)."""

    code: str | None = None
    name: str | None = None
    parent: str | None = None
    kind: str | None = None


@contextmanager
def readable(path: Path) -> Iterator[str]:
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


def read_features(source: str, layer: str | None, encoding: str | None):
    """Return (meta, WKB geometries, attribute columns) of a layer, or raise naming why not."""
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


def text_value(value) -> str | None:
    """Return an attribute as stripped text (numbers from a .dbf without their .0), or None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)  # codes stored as numbers in a .dbf
    text = str(value).strip()
    return text or None


def resolve_fields(fields: FieldMap, names: list[str]) -> dict[str, str | None]:
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


def source_crs(declared: str | None, srid: int | None) -> CRS | None:
    """Return the CRS to read from: `srid` if given, else the file's, else None (lon/lat)."""
    try:
        if srid:
            return CRS.from_epsg(int(srid))
        return CRS.from_user_input(declared) if declared else None
    except CRSError:
        raise ValidationError(
            f"未知坐标系 {srid or declared} (unknown CRS)", {"srid": ["EPSG 代码, 如 4490"]}
        ) from None


def crs_label(crs: CRS | None) -> str:
    """Return a short name of a CRS for messages (EPSG:4490)."""
    if crs is None:
        return "lon/lat (no CRS in the file)"
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def to_wgs84(crs: CRS | None):
    """Return a function taking an (n, 2) array to WGS-84 lon/lat, or None for no change."""
    if crs is None or crs.equals(CRS.from_epsg(4326)):
        return None
    transformer = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)

    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return apply


def polygonal(geom: BaseGeometry) -> MultiPolygon | None:
    """The polygonal parts of a geometry as a MultiPolygon (None when there are none)."""
    if geom.geom_type == "Polygon":
        parts = [geom]
    elif geom.geom_type == "MultiPolygon":
        parts = list(geom.geoms)
    elif geom.geom_type == "GeometryCollection":
        parts = [p for g in geom.geoms if (m := polygonal(g)) for p in m.geoms]
    else:
        parts = []
    parts = [p for p in parts if not p.is_empty and p.area > 0]
    return MultiPolygon(parts) if parts else None


def clean_geometry(wkb, transform) -> tuple[MultiPolygon | Point | None, str | None, int]:
    """Return (geometry in WGS-84, problem or None, 1 if repaired else 0)."""
    if wkb is None:
        return None, "没有几何 (no geometry)", 0
    geom = shapely.from_wkb(wkb)
    if geom.is_empty:
        return None, "几何为空 (empty geometry)", 0
    if transform is not None:
        geom = shapely.transform(geom, transform)
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
        polygons = polygonal(geom)
        if polygons is None:
            return None, "面积为零 (zero area)", 0
        return polygons, None, 0
    reason = shapely.is_valid_reason(geom)
    polygons = polygonal(shapely.make_valid(geom))
    if polygons is None:
        return None, f"几何无效且无法修复 (invalid geometry, cannot repair: {reason})", 0
    return polygons, None, 1


def save_upload(storage, folder: str | None = None) -> Path:
    """Save an uploaded file (werkzeug FileStorage) to a temporary path with its suffix."""
    suffix = Path(storage.filename or "").suffix.lower()
    handle = tempfile.NamedTemporaryFile(suffix=suffix, dir=folder, delete=False)
    with handle:
        storage.save(handle)
    return Path(handle.name)
