"""Geometry at the edge: parse and check coordinates once; geodesic helpers."""

from __future__ import annotations

import math

from geoalchemy2.elements import WKTElement
from geoalchemy2.shape import to_shape
from pyproj import Geod
from shapely.geometry import Point

from fieldwatch.errors_core import ValidationError

_GEOD = Geod(ellps="WGS84")


def parse_lonlat(lon, lat, lon_field: str = "lon", lat_field: str = "lat") -> tuple[float, float]:
    """Return (lon, lat) as floats or raise ValidationError naming the bad field."""
    errors: dict[str, list[str]] = {}
    values = {}
    for field, value, limit in ((lon_field, lon, 180), (lat_field, lat, 90)):
        try:
            if isinstance(value, bool):  # float(True) is 1.0: a JSON true is not a coordinate
                raise TypeError(value)
            number = float(value)
        except (TypeError, ValueError):
            errors[field] = ["必须是数字 (must be a number)"]
            continue
        if not math.isfinite(number) or abs(number) > limit:
            errors[field] = [f"超出范围 -{limit}…{limit} (out of range)"]
            continue
        values[field] = number
    if errors:
        raise ValidationError("坐标无效 (invalid coordinates)", errors)
    return values[lon_field], values[lat_field]


def point_element(lon: float, lat: float) -> WKTElement:
    """Return a WGS-84 point for a geometry column."""
    return WKTElement(f"POINT({lon!r} {lat!r})", srid=4326)


def lonlat_of(element) -> tuple[float, float] | None:
    """Return (lon, lat) of a stored point, or None."""
    if element is None:
        return None
    shape = to_shape(element) if not isinstance(element, Point) else element
    return shape.x, shape.y


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the geodesic distance in metres between two (lon, lat) pairs."""
    _, _, metres = _GEOD.inv(a[0], a[1], b[0], b[1])
    return float(metres)


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """Parse 'minlon,minlat,maxlon,maxlat' or raise ValidationError."""
    if not text:
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise ValidationError(
            "bbox 无效", {"bbox": ["四个数字: minlon,minlat,maxlon,maxlat"]}
        ) from None
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise ValidationError("bbox 无效", {"bbox": ["四个数字: minlon,minlat,maxlon,maxlat"]})
    x1, y1, x2, y2 = parts
    if not (-180 <= x1 <= 180 and -180 <= x2 <= 180 and -90 <= y1 <= 90 and -90 <= y2 <= 90):
        raise ValidationError("bbox 无效", {"bbox": ["超出范围 (out of range)"]})
    if x1 > x2 or y1 > y2:
        raise ValidationError(
            "bbox 无效", {"bbox": ["最小值必须不大于最大值 (min must not exceed max)"]}
        )
    return x1, y1, x2, y2
