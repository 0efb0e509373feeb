"""Writes about stations: register, edit, the villages they serve."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from fieldwatch.areas.queries import area_containing
from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db
from fieldwatch.geo import lonlat_of, parse_lonlat, point_element
from fieldwatch.models import Area, Station, User
from fieldwatch.models.places import FIVE_HAVES, STATION_KINDS, STATION_TIER

#: each station is linked with 3-10 committee members (确保每个工作站有3-10名政协委员联系)
MEMBERS_MIN, MEMBERS_MAX = 3, 10


def member_warning(count: int) -> str | None:
    """Return 'few' or 'many' when a station's linked members are outside 3-10, else None."""
    if count < MEMBERS_MIN:
        return "few"
    if count > MEMBERS_MAX:
        return "many"
    return None


def _villages(codes: list[str], field: str = "serves") -> list[Area]:
    """Return the villages with these codes, in the given order, or raise naming the unknown."""
    codes = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not codes:
        return []
    found = {
        a.code: a
        for a in db.session.scalars(
            select(Area).where(Area.code.in_(codes), Area.level == "village")
        ).all()
    }
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(
            f"未知村/社区编码: {', '.join(missing)}", {field: [f"未知编码 {c}" for c in missing]}
        )
    return [found[c] for c in codes]


def create_station(
    name: str,
    kind: str,
    lon,
    lat,
    village_code: str | None = None,
    serves: list[str] | None = None,
    established_on: date | None = None,
    closed_on: date | None = None,
    five_haves: dict[str, bool] | None = None,
    convener: str | None = None,
    address: str | None = None,
    member_ids: list[int] | None = None,
    local_members: str | None = None,
) -> Station:
    """Register a station, placing it in its village and township; flush."""
    station = Station()
    db.session.add(station)
    update_station(
        station,
        name=name,
        kind=kind,
        lon=lon,
        lat=lat,
        village_code=village_code,
        serves=serves,
        established_on=established_on,
        closed_on=closed_on,
        five_haves=five_haves or {},
        convener=convener,
        address=address,
        member_ids=member_ids,
        local_members=local_members,
    )
    return station


def update_station(station: Station, **values) -> Station:
    """Apply the given values to a station, re-deriving its place when moved; flush.

    `serves=None` means the default: a village-tier station serves its own village,
    a township or county platform serves nothing until told.
    """
    errors: dict[str, list[str]] = {}
    if "name" in values:
        name = (values["name"] or "").strip()
        if not name:
            errors["name"] = ["名称不能为空 (name required)"]
        station.name = name
    if "kind" in values:
        if values["kind"] not in STATION_KINDS:
            errors["kind"] = [f"可选: {', '.join(STATION_KINDS)}"]
        station.kind = values["kind"]
    moved = any(key in values for key in ("lon", "lat", "village_code"))
    lon = lat = None
    if moved:
        here = lonlat_of(station.location) or (None, None)
        try:
            lon, lat = parse_lonlat(values.get("lon", here[0]), values.get("lat", here[1]))
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)
    if moved:
        own_before = station.area_id
        station.location = point_element(lon, lat)
        if values.get("village_code"):
            village = _villages([values["village_code"]], "village_code")[0]
            station.area_id, station.township_id = village.id, village.parent_id
        else:
            placed = area_containing(lon, lat)
            station.area_id, station.township_id = placed.village_id, placed.township_id
        if "serves" not in values and [a.id for a in station.serves] == [own_before]:
            values["serves"] = None  # it served just its own village: follow the move
    for field in ("established_on", "closed_on", "convener", "address", "local_members"):
        if field in values:
            setattr(station, field, values[field])
    if station.established_on and station.closed_on and station.closed_on < station.established_on:
        raise ValidationError(
            "关闭日期早于设立日期", {"closed_on": ["不能早于设立日期 (before established_on)"]}
        )
    for key, value in (values.get("five_haves") or {}).items():
        if key not in FIVE_HAVES:
            raise ValidationError(
                f"未知五有项 {key}", {"five_haves": [f"可选: {', '.join(FIVE_HAVES)}"]}
            )
        setattr(station, f"has_{key}", bool(value))
    if values.get("serves") is not None:
        station.serves = _villages(list(values["serves"]))
    elif "serves" in values:
        own = station.kind not in STATION_TIER and station.area_id is not None
        # a village-tier station serves its own village unless told otherwise
        station.serves = [db.session.get(Area, station.area_id)] if own else []
    if values.get("member_ids") is not None:
        ids = list(values["member_ids"])
        members = db.session.scalars(select(User).where(User.id.in_(ids))).all() if ids else []
        if len(members) != len(set(ids)):
            raise ValidationError("未知委员", {"member_ids": ["有委员不存在 (unknown member)"]})
        station.members = list(members)
    db.session.flush()
    return station
