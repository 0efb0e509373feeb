"""Subdivided boundaries (area_parts) follow every boundary write; point-in-polygon uses them."""

from __future__ import annotations

import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from shapely.ops import unary_union
from sqlalchemy import func, select, text

from fieldwatch.areas.queries import area_containing
from fieldwatch.areas.services import upsert_area
from fieldwatch.extensions import db
from fieldwatch.models import Area, AreaPart


def parts(area_id: int) -> list:
    return db.session.scalars(select(AreaPart).where(AreaPart.area_id == area_id)).all()


def test_parts_follow_boundary_writes(app, small_county):
    # a round township with 2,000 vertices: cut into pieces of at most 256
    ring = Point(104.3, 30.05).buffer(0.04, quad_segs=500)
    t = upsert_area("512099003000", "圆镇", "township", "town", "512099000000", ring)
    pieces = parts(t.id)
    assert len(pieces) > 8 and all(p.level == "township" for p in pieces)
    assert max(db.session.scalar(func.ST_NPoints(p.boundary)) for p in pieces) <= 256
    assert (
        unary_union([to_shape(p.boundary) for p in pieces]).symmetric_difference(ring).area < 1e-9
    )

    assert area_containing(104.3, 30.05).township_id == t.id
    assert area_containing(104.33, 30.05).township_id == t.id
    assert area_containing(104.35, 30.05).township_id is None

    # written by hand-made SQL too (bulk loads): the trigger keeps the pieces
    db.session.execute(text("UPDATE areas SET boundary = NULL WHERE id = :id"), {"id": t.id})
    assert parts(t.id) == [] and area_containing(104.3, 30.05).township_id is None
    db.session.execute(
        text(
            "UPDATE areas SET boundary = ST_Multi(ST_MakeEnvelope(104.29, 30.04, 104.31, 30.06, 4326)) WHERE id = :id"
        ),
        {"id": t.id},
    )
    assert len(parts(t.id)) == 1 and area_containing(104.3, 30.05).township_id == t.id


def test_parts_follow_the_level_and_go_with_the_area(app, small_county):
    v = small_county.villages["V11"]
    assert {p.level for p in parts(v.id)} == {"village"}
    db.session.execute(text("DELETE FROM areas WHERE id = :id"), {"id": v.id})
    assert parts(v.id) == []


@pytest.mark.parametrize("lon, lat, village, township", [
    (104.02, 30.05, "V11", "T1"),
    (104.07, 30.05, "V12", "T1"),
    (104.05, 30.05, "V11", "T1"),  # on the shared edge: always the lower code
    (104.19, 30.09, "V22", "T2"),  # point-only villages: the nearest office
])  # fmt: skip
def test_area_containing(app, small_county, lon, lat, village, township):
    placed = area_containing(lon, lat)
    assert placed.village_id == small_county.villages[village].id
    assert placed.township_id == small_county.townships[township].id
    assert db.session.get(Area, placed.village_id).parent_id == placed.township_id
