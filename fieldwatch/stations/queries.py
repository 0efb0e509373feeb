"""Reads about stations: the register with its filters, one station, the villages it serves."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text

from fieldwatch.extensions import db
from fieldwatch.models.places import FIVE_HAVES, STATION_KINDS, STATION_TIER
from fieldwatch.stations.services import member_warning

TIERS = ("county", "township", "village")

_SELECT = """
    SELECT s.id, s.name, s.kind, ST_X(s.location) AS lon, ST_Y(s.location) AS lat, s.address,
           v.code AS area_code, v.name AS area_name, v.level AS area_level,
           t.code AS township_code, t.name AS township_name,
           s.has_venue, s.has_signage, s.has_rules, s.has_activities, s.has_results,
           s.established_on, s.closed_on, s.convener, s.local_members,
           (SELECT count(*) FROM station_members m WHERE m.station_id = s.id) AS member_count,
           ARRAY(SELECT a.code FROM station_serves ss JOIN areas a ON a.id = ss.area_id
                 WHERE ss.station_id = s.id ORDER BY a.code) AS serves
    FROM stations s
    LEFT JOIN areas v ON v.id = s.area_id
    LEFT JOIN areas t ON t.id = s.township_id
"""


@dataclass(frozen=True)
class StationFilter:
    """What the register shows (every field optional)."""

    township: str | None = None
    kind: str | None = None
    tier: str | None = None
    #: open | closed | all (open and closed as of `on`)
    status: str = "all"
    incomplete: bool = False
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None


def tier_of(kind: str) -> str:
    return STATION_TIER.get(kind, "village")


def status_of(established_on: date | None, closed_on: date | None, on: date) -> str:
    """Return 'planned' (not yet established), 'open' or 'closed' on a date."""
    if established_on is not None and established_on > on:
        return "planned"
    if closed_on is not None and closed_on <= on:
        return "closed"
    return "open"


def list_stations(filters: StationFilter, on: date, limit: int = 50, offset: int = 0) -> list:
    """Return stations matching `filters` (status as of `on`), by township and name; limit + 1."""
    where, params = ["TRUE"], {"on": on, "limit": limit + 1, "offset": offset}
    if filters.township:
        where.append("t.code = :township")
        params["township"] = filters.township
    if filters.kind:
        where.append("s.kind = :kind")
        params["kind"] = filters.kind
    if filters.tier:
        kinds = [k for k in STATION_KINDS if tier_of(k) == filters.tier]
        where.append("s.kind = ANY(:kinds)")
        params["kinds"] = kinds
    open_sql = (
        "(s.established_on IS NULL OR s.established_on <= :on) "
        "AND (s.closed_on IS NULL OR s.closed_on > :on)"
    )
    if filters.status == "open":
        where.append(open_sql)
    elif filters.status == "closed":
        where.append("s.closed_on IS NOT NULL AND s.closed_on <= :on")
    if filters.incomplete:
        where.append("NOT (" + " AND ".join(f"s.has_{k}" for k in FIVE_HAVES) + ")")
    if filters.q:
        where.append("(s.name ILIKE :q OR s.address ILIKE :q OR s.convener ILIKE :q)")
        params["q"] = "%" + filters.q.replace("%", r"\%").replace("_", r"\_") + "%"
    if filters.bbox:
        where.append("s.location && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
        params.update(zip(("x0", "y0", "x1", "y1"), filters.bbox, strict=True))
    sql = (
        _SELECT
        + " WHERE "
        + " AND ".join(where)
        + " ORDER BY t.code NULLS LAST, s.name, s.id LIMIT :limit OFFSET :offset"
    )
    return db.session.execute(text(sql), params).all()


def station_row(station_id: int):
    """Return one station's row (as in `list_stations`), or None."""
    return db.session.execute(text(_SELECT + " WHERE s.id = :id"), {"id": station_id}).first()


def station_feature(row, on: date, members: list | None = None) -> dict:
    """Return a station row as a GeoJSON Feature (DESIGN.md: village_code, township_code, serves)."""
    five = {k: bool(getattr(row, f"has_{k}")) for k in FIVE_HAVES}
    properties = {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "tier": tier_of(row.kind),
        "address": row.address,
        "village_code": row.area_code if row.area_level == "village" else None,
        "village_name": row.area_name if row.area_level == "village" else None,
        "township_code": row.township_code,
        "township_name": row.township_name,
        "serves": list(row.serves or []),
        "five_haves": five,
        "five_haves_met": sum(five.values()),
        "established_on": row.established_on.isoformat() if row.established_on else None,
        "closed_on": row.closed_on.isoformat() if row.closed_on else None,
        "status": status_of(row.established_on, row.closed_on, on),
        "convener": row.convener,
        "member_count": row.member_count,
        "member_warning": member_warning(row.member_count),
    }
    if members is not None:
        properties["members"] = [{"id": u.id, "name": u.name} for u in members]
        properties["local_members"] = row.local_members
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": properties,
    }


def served_places(station_id: int) -> list:
    """Return the villages a station serves: code, name, kind, township, GeoJSON geometry text."""
    sql = """
    SELECT a.code, a.name, a.kind, t.name AS township_name,
           ST_AsGeoJSON(COALESCE(ST_SimplifyPreserveTopology(a.boundary, 0.0001), a.location), 6)
               AS geometry
    FROM station_serves ss
    JOIN areas a ON a.id = ss.area_id
    LEFT JOIN areas t ON t.id = a.parent_id
    WHERE ss.station_id = :id
    ORDER BY a.code
    """
    return db.session.execute(text(sql), {"id": station_id}).all()


def as_collection(rows, properties=("code", "name")) -> dict:
    """Return rows with a `geometry` GeoJSON text as a FeatureCollection (rows without one skipped)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(r.geometry),
                "properties": {p: getattr(r, p) for p in properties},
            }
            for r in rows
            if r.geometry
        ],
    }


def village_choices() -> list:
    """Return every village as (code, name, township name), by code (for the serves picker)."""
    sql = """
    SELECT v.code, v.name, t.name AS township_name
    FROM areas v LEFT JOIN areas t ON t.id = v.parent_id
    WHERE v.level = 'village' ORDER BY v.code
    """
    return db.session.execute(text(sql)).all()
