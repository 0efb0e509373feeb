"""The map's search box: places and stations by name, problems by ref."""

from __future__ import annotations

from sqlalchemy import text

from fieldwatch.extensions import db
from fieldwatch.map.queries.base import ISSUE_SCOPE, Reader


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_SEARCH = f"""
    (SELECT 'issue' AS type, i.id::text AS key, i.ref || ' ' || i.title AS label,
            i.status AS detail, ST_X(i.location) AS lon, ST_Y(i.location) AS lat,
            NULL::float AS w, NULL::float AS s, NULL::float AS e, NULL::float AS n, 0 AS rank
     FROM issues i
     -- refs are upper case; LIKE with a prefix uses the unique index (C collation)
     WHERE (i.ref LIKE :ref_prefix OR i.ref LIKE :ref_number) AND ({ISSUE_SCOPE})
     ORDER BY i.ref LIMIT :limit)
    UNION ALL
    (SELECT a.level, a.code, a.name, p.name,
            ST_X(COALESCE(a.location, ST_PointOnSurface(a.boundary))),
            ST_Y(COALESCE(a.location, ST_PointOnSurface(a.boundary))),
            ST_XMin(a.boundary), ST_YMin(a.boundary), ST_XMax(a.boundary), ST_YMax(a.boundary),
            CASE a.level WHEN 'township' THEN 1 WHEN 'village' THEN 2 ELSE 3 END
     FROM areas a LEFT JOIN areas p ON p.id = a.parent_id
     WHERE a.name ILIKE :contains AND a.level IN ('township', 'village')
     ORDER BY (a.name ILIKE :starts) DESC, length(a.name), a.code LIMIT :limit)
    UNION ALL
    (SELECT 'station', s.id::text, s.name, s.address, ST_X(s.location), ST_Y(s.location),
            NULL, NULL, NULL, NULL, 4
     FROM stations s
     WHERE s.name ILIKE :contains
     ORDER BY (s.name ILIKE :starts) DESC, length(s.name), s.id LIMIT :limit)
    ORDER BY rank LIMIT :limit
"""


def search(q: str, reader: Reader, limit: int = 10) -> list[dict]:
    """Find places (townships, villages), stations by name and problems by ref."""
    q = (q or "").strip()
    if not q:
        return []
    like = _like(q)
    number = q.lstrip("0") if q.isascii() and q.isdigit() else None
    rows = db.session.execute(
        text(_SEARCH),
        {
            "ref_prefix": _like(q.upper())[1:],
            # a bare number finds FW-<year>-<that number, zero-padded>
            "ref_number": f"FW-%-{int(number or 0):06d}" if number else "",
            "contains": like,
            "starts": like[1:],
            "limit": limit,
            **reader.params(),
        },
    ).all()
    return [
        {
            "type": r.type,
            "key": r.key,
            "label": r.label,
            "detail": r.detail,
            "lon": r.lon,
            "lat": r.lat,
            "bbox": [r.w, r.s, r.e, r.n] if r.w is not None else None,
        }
        for r in rows
    ]
