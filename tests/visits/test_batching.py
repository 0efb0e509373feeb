"""Batches (PostGIS ST_ClusterDBSCAN in metres) and the planner's candidate filters."""

import json
from datetime import timedelta

import pytest
from pyproj import Geod

from fieldwatch.extensions import db
from fieldwatch.models import Followup
from fieldwatch.visits import queries

from .conftest import TODAY

GEOD = Geod(ellps="WGS84")


def offset(point, azimuth, metres):
    lon, lat, _ = GEOD.fwd(point[0], point[1], azimuth, metres)
    return lon, lat


@pytest.fixture
def hand_placed(make_issue):
    """Cluster A: 3 problems 200 m apart; cluster B: 2 problems 150 m apart, 5 km away;
    a loner 600 m due east of A's eastern end (east–west, where degrees mislead most)."""
    a0 = (104.02, 30.05)
    a1 = offset(a0, 90, 200)
    a2 = offset(a1, 0, 200)
    b0 = offset(a0, 180, 5000)
    b1 = offset(b0, 45, 150)
    loner = offset(a1, 90, 600)
    made = {
        name: make_issue(*point, title=name)
        for name, point in {
            "a0": a0,
            "a1": a1,
            "a2": a2,
            "b0": b0,
            "b1": b1,
            "loner": loner,
        }.items()
    }
    return made


def ids(*issues):
    return sorted(i.id for i in issues)


def test_two_batches_and_a_loner(hand_placed, small_county):
    h = hand_placed
    result = queries.batches(queries.CandidateFilter(), eps_m=500)
    assert [b["issue_ids"] for b in result["batches"]] == [
        ids(h["a0"], h["a1"], h["a2"]),
        ids(h["b0"], h["b1"]),
    ]
    assert [b["count"] for b in result["batches"]] == [3, 2]
    assert [b["id"] for b in result["batches"]] == [1, 2]
    assert result["loners"] == [h["loner"].id]
    assert result["batches"][0]["townships"] == ["东风镇"]


@pytest.mark.parametrize(("eps", "joins"), [(570, False), (630, True)])
def test_eps_is_ground_metres(hand_placed, eps, joins):
    """The loner is 600 m from A: it joins A at eps 630 m and not at 570 m (±5%)."""
    result = queries.batches(queries.CandidateFilter(), eps_m=eps)
    first = result["batches"][0]["issue_ids"]
    assert (hand_placed["loner"].id in first) is joins
    assert (result["loners"] == [hand_placed["loner"].id]) is not joins


def test_a_large_distance_makes_one_batch_and_a_small_one_none(hand_placed):
    assert len(queries.batches(queries.CandidateFilter(), eps_m=10_000)["batches"]) == 1
    tiny = queries.batches(queries.CandidateFilter(), eps_m=50)
    assert tiny["batches"] == [] and len(tiny["loners"]) == 6


def test_batches_only_use_the_filtered_candidates(hand_placed, small_county):
    area = {
        "type": "Polygon",
        "coordinates": [
            [[104.0, 30.04], [104.06, 30.04], [104.06, 30.06], [104.0, 30.06]] + [[104.0, 30.04]]
        ],
    }
    within = queries.parse_area(json.dumps(area))
    result = queries.batches(queries.CandidateFilter(within=within), eps_m=500)
    assert len(result["batches"]) == 1 and result["batches"][0]["count"] == 3


def test_candidate_filters(make_issue, small_county, people):
    t1, t2 = small_county.townships["T1"], small_county.townships["T2"]
    plain = make_issue(104.02, 30.05)
    urgent = make_issue(104.03, 30.05)
    urgent.priority = "urgent"
    late = make_issue(104.04, 30.05, status="resolved")
    db.session.add(Followup(issue_id=late.id, due_on=TODAY - timedelta(days=3), kind="scheduled"))
    came_back = make_issue(104.15, 30.05, status="in_progress")
    came_back.reopen_count = 1
    make_issue(104.05, 30.05, status="closed")
    db.session.flush()

    def found(**kw):
        return sorted(row.id for row in queries.candidates(queries.CandidateFilter(**kw)))

    assert found() == ids(plain, urgent, late, came_back)  # never an ended problem
    assert found(township_id=t1.id) == ids(plain, urgent, late)
    assert found(township_id=t2.id) == ids(came_back)
    assert found(priority="urgent") == ids(urgent)
    assert found(overdue_lookback=True) == ids(late)
    assert found(reopened=True) == ids(came_back)
    assert found(statuses=["resolved", "in_progress"]) == ids(late, came_back)
    assert found(bbox=(104.025, 30.0, 104.1, 30.1)) == ids(urgent, late)
    assert found(categories=["roads"]) == ids(plain, urgent, late, came_back)
    assert found(categories=["greening"]) == []
    rows = queries.candidates(queries.CandidateFilter())
    assert rows[0].id == came_back.id  # reopened first, then urgent
    assert rows[1].id == urgent.id
    late_row = next(r for r in rows if r.id == late.id)
    assert late_row.lookback_overdue and late_row.township == "东风镇"


def test_bad_areas_are_refused():
    from fieldwatch.errors_core import ValidationError

    for bad in ("nonsense", json.dumps({"type": "Point", "coordinates": [104, 30]})):
        with pytest.raises(ValidationError) as caught:
            queries.parse_area(bad)
        assert "within" in caught.value.errors
