"""Places (areas) and consultation stations."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldwatch.extensions import db
from fieldwatch.models.base import point, tz_datetime, utcnow

AREA_LEVELS = ("county", "township", "village")
TOWNSHIP_KINDS = ("town", "xiang", "subdistrict")
VILLAGE_KINDS = ("village", "community")

STATION_KINDS = (
    "street_block",
    "rural",
    "member_studio",
    "members_home",
    "liaison_group",
    "village_council",
    "township_platform",
    "county_platform",
)
#: the tier follows from the kind
STATION_TIER = {
    "county_platform": "county",
    "township_platform": "township",
}
FIVE_HAVES = ("venue", "signage", "rules", "activities", "results")


class Area(db.Model):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 12-digit statistical division code (统计用区划代码)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    #: county | township | village
    level: Mapped[str] = mapped_column(String(10), index=True)
    #: town/xiang/subdistrict for townships; village/community for villages
    kind: Mapped[str | None] = mapped_column(String(12))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    boundary = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=True)
    #: the committee office
    location = mapped_column(point(), nullable=True)

    parent: Mapped[Area | None] = relationship(remote_side="Area.id", back_populates="children")
    children: Mapped[list[Area]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Area {self.code} {self.name}>"


class AreaPart(db.Model):
    """A piece of an area's boundary (ST_Subdivide, at most 256 vertices).

    Kept by the database (trigger `areas_subdivide`, migration 0003) whenever a
    boundary or level is written, however it is written. Point-in-polygon tests
    these small pieces instead of whole boundaries: on boundaries of real size
    (townships ~8,000 vertices, villages ~1,700) 1.4 ms -> 0.11 ms per point.
    """

    __tablename__ = "area_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    #: the area's level, copied so the lookup needs no join
    level: Mapped[str] = mapped_column(String(10))
    boundary = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False)


station_serves = Table(
    "station_serves",
    db.metadata,
    Column("station_id", ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_station_serves_area_id", "area_id"),
)

station_members = Table(
    "station_members",
    db.metadata,
    Column("station_id", ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Station(db.Model):
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    location = mapped_column(point(), nullable=False)
    address: Mapped[str | None] = mapped_column(String(300))
    #: its village (or township/county for platforms)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    has_venue: Mapped[bool] = mapped_column(Boolean, default=False)
    has_signage: Mapped[bool] = mapped_column(Boolean, default=False)
    has_rules: Mapped[bool] = mapped_column(Boolean, default=False)
    has_activities: Mapped[bool] = mapped_column(Boolean, default=False)
    has_results: Mapped[bool] = mapped_column(Boolean, default=False)
    established_on = mapped_column(Date, nullable=True)
    closed_on = mapped_column(Date, nullable=True)
    convener: Mapped[str | None] = mapped_column(String(100))
    #: local deliberation members (议事成员), names only
    local_members: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(tz_datetime(), default=utcnow)
    updated_at = mapped_column(tz_datetime(), default=utcnow, onupdate=utcnow)

    area: Mapped[Area | None] = relationship(foreign_keys=[area_id])
    township: Mapped[Area | None] = relationship(foreign_keys=[township_id])
    serves: Mapped[list[Area]] = relationship(secondary=station_serves)
    members = relationship("User", secondary=station_members)

    @property
    def tier(self) -> str:
        return STATION_TIER.get(self.kind, "village")

    def five_haves(self) -> dict[str, bool]:
        return {name: bool(getattr(self, f"has_{name}")) for name in FIVE_HAVES}
