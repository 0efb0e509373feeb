"""Query parameters of the OGC API, checked once: 400 with the parameter named."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from fieldwatch import clock
from fieldwatch.errors_core import FieldwatchError
from fieldwatch.ogc.layers import CRS84

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: the parameters each kind of request understands (anything else is a 400, as the spec asks)
KNOWN = {
    "page": {"f"},
    "items": {"f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs"},
    "item": {"f", "crs"},
}
CRS_NAMES = {CRS84, "http://www.opengis.net/def/crs/OGC/1.3/CRS84h", "[OGC:CRS84]", "OGC:CRS84"}


class BadParameter(FieldwatchError):
    """A query parameter the API cannot use (HTTP 400)."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}", {name: [message]})


def check_known(args, kind: str) -> None:
    unknown = sorted(set(args) - KNOWN[kind])
    if unknown:
        raise BadParameter(
            unknown[0], f"未知参数 (unknown parameter; known: {sorted(KNOWN[kind])})"
        )
    fmt = args.get("f")
    if fmt not in (None, "", "json", "geojson"):
        raise BadParameter("f", "只提供 JSON (only f=json)")
    for name in ("crs", "bbox-crs"):
        value = args.get(name)
        if value not in (None, "") and value not in CRS_NAMES:
            raise BadParameter(name, f"只支持 CRS84 (only {CRS84})")


#: beyond any real collection, well inside PostgreSQL's bigint
MAX_OFFSET = 1_000_000_000


def limit(value: str | None) -> int:
    """Return the page size: default 100, a larger value than the maximum counts as the maximum."""
    if value in (None, ""):
        return DEFAULT_LIMIT
    try:
        number = int(value)
    except ValueError:
        raise BadParameter("limit", "必须是正整数 (a positive integer)") from None
    if number < 1:
        raise BadParameter("limit", "必须是正整数 (a positive integer)")
    return min(number, MAX_LIMIT)


def offset(value: str | None) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(value)
    except ValueError:
        raise BadParameter("offset", "必须是非负整数 (a non-negative integer)") from None
    if number < 0:
        raise BadParameter("offset", "必须是非负整数 (a non-negative integer)")
    if number > MAX_OFFSET:  # PostgreSQL's OFFSET is a bigint; nothing is that far anyway
        raise BadParameter("offset", f"最大 {MAX_OFFSET} (at most {MAX_OFFSET})")
    return number


def bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """Parse minLon,minLat,maxLon,maxLat (or the 6-number form with heights)."""
    if value in (None, ""):
        return None
    try:
        parts = [float(p) for p in value.split(",")]
    except ValueError:
        raise BadParameter("bbox", "四个数字 (minLon,minLat,maxLon,maxLat)") from None
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise BadParameter("bbox", "四个数字 (minLon,minLat,maxLon,maxLat)")
    x1, y1, x2, y2 = parts
    if not (-180 <= x1 <= 180 and -180 <= x2 <= 180 and -90 <= y1 <= 90 and -90 <= y2 <= 90):
        raise BadParameter("bbox", "超出范围 (out of range)")
    if y1 > y2:
        raise BadParameter("bbox", "minLat 大于 maxLat (minLat above maxLat)")
    if x1 > x2:
        raise BadParameter("bbox", "不支持跨越 180° 经线的范围 (boxes across the antimeridian)")
    return x1, y1, x2, y2


def _instant(text: str, end: bool) -> datetime:
    """An RFC 3339 instant; a date alone means its first (or, for an end, last) local instant."""
    try:
        if "T" not in text.upper() and len(text) == 10:
            day = date.fromisoformat(text)
            if not 1900 <= day.year <= 2999:  # a day's last instant must fit in the calendar
                raise ValueError(text)
            if end:
                day += timedelta(days=1)
            start = datetime.combine(day, time(), tzinfo=clock.zone())
            return start - timedelta(microseconds=1) if end else start
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(
            "datetime", "RFC 3339 时间或区间 (an RFC 3339 time or interval)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.zone())
    if not 1900 <= moment.year <= 2999:
        raise BadParameter("datetime", "1900–2999 年之间 (between the years 1900 and 2999)")
    return moment


def interval(value: str | None) -> tuple[datetime | None, datetime | None] | None:
    """Parse `datetime`: an instant, a date, or `start/end` with `..` (or nothing) for open ends."""
    if value in (None, ""):
        return None
    if "/" in value:
        low_text, _, high_text = value.partition("/")
        low = None if low_text in ("", "..") else _instant(low_text, end=False)
        high = None if high_text in ("", "..") else _instant(high_text, end=True)
        if low is None and high is None:
            return None
        if low is not None and high is not None and low > high:
            raise BadParameter("datetime", "开始晚于结束 (start after end)")
        return low, high
    return _instant(value, end=False), _instant(value, end=True)
