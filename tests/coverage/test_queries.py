"""Coverage as DESIGN.md defines it, on small places with known answers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fieldwatch.coverage.queries import coverage_by_township, default_since, percent

V11, V12, V21, V22 = "512099001001", "512099001002", "512099002001", "512099002002"
T1, T2 = "512099001000", "512099002000"
DAY = date(2025, 6, 30)


def township(result, code):
    return next(t for t in result.townships if t.code == code)


def summary(result) -> dict:
    """code -> (has_platform, villages, communities, covered, pct, visited, uncovered codes)."""
    return {
        t.code: (
            t.has_platform,
            t.villages,
            t.communities,
            t.covered,
            t.coverage_pct,
            t.visited,
            [u["code"] for u in t.uncovered],
        )
        for t in result.townships
    }


def test_nothing_registered(small_county):
    result = coverage_by_township(DAY)
    assert summary(result) == {
        T1: (False, 1, 1, 0, 0.0, 0, [V11, V12]),
        T2: (False, 2, 0, 0, 0.0, 0, [V21, V22]),
    }
    assert township(result, T1).uncovered == [
        {"code": V11, "name": "红星村", "kind": "village"},
        {"code": V12, "name": "新华社区", "kind": "community"},
    ]
    t = result.totals
    assert (t.townships, t.with_platform, t.villages, t.communities, t.covered, t.visited) == (
        2, 0, 3, 1, 0, 0,
    )  # fmt: skip


def test_a_station_serves_its_own_village_by_default(build):
    build.station(lon=104.02, lat=30.05)  # in V11
    result = coverage_by_township(DAY)
    assert summary(result)[T1] == (True, 1, 1, 1, 50.0, 0, [V12])
    assert summary(result)[T2] == (False, 2, 0, 0, 0.0, 0, [V21, V22])
    assert result.totals.covered == 1 and result.totals.coverage_pct == 25.0


def test_serves_and_fully_covered(build):
    build.station(lon=104.02, lat=30.05, serves=[V11, V12])
    t1 = township(coverage_by_township(DAY), T1)
    assert (t1.covered, t1.coverage_pct, t1.fully_covered, t1.uncovered) == (2, 100.0, True, [])


def test_as_of_before_established_and_on_closing_day(build):
    build.station(
        lon=104.02, lat=30.05, established_on=date(2024, 3, 1), closed_on=date(2025, 3, 1)
    )
    assert summary(coverage_by_township(date(2024, 2, 29)))[T1][:4] == (False, 1, 1, 0)
    assert summary(coverage_by_township(date(2024, 3, 1)))[T1][:4] == (True, 1, 1, 1)
    assert summary(coverage_by_township(date(2025, 2, 28)))[T1][:4] == (True, 1, 1, 1)
    # closed_on is the first day it is closed
    assert summary(coverage_by_township(date(2025, 3, 1)))[T1][:4] == (False, 1, 1, 0)


def test_undated_station_is_open(build):
    build.station(lon=104.02, lat=30.05, established_on=None)
    assert township(coverage_by_township(date(1990, 1, 1)), T1).covered == 1


def test_a_closed_station_does_not_cover_but_an_open_one_does(build):
    build.station(lon=104.02, lat=30.05, serves=[V11, V12], closed_on=date(2025, 1, 1))
    build.station(lon=104.07, lat=30.05)  # in V12, open
    assert summary(coverage_by_township(DAY))[T1] == (True, 1, 1, 1, 50.0, 0, [V11])


def test_platforms_serve_only_what_they_list(build):
    build.station("township_platform", lon=104.15, lat=30.05)
    assert summary(coverage_by_township(DAY))[T2] == (True, 2, 0, 0, 0.0, 0, [V21, V22])
    build.station("township_platform", lon=104.16, lat=30.05, serves=[V22])
    assert summary(coverage_by_township(DAY))[T2] == (True, 2, 0, 1, 50.0, 0, [V21])
    build.station("county_platform", lon=104.05, lat=30.05, serves=[V21])
    result = coverage_by_township(DAY)
    assert summary(result)[T2] == (True, 2, 0, 2, 100.0, 0, [])
    assert summary(result)[T1] == (True, 1, 1, 0, 0.0, 0, [V11, V12])  # its own village too: not


def test_point_only_villages_are_placed_by_the_nearest_office(build):
    build.station(lon=104.125, lat=30.07)  # in T2, nearest office V21
    assert summary(coverage_by_township(DAY))[T2] == (True, 2, 0, 1, 50.0, 0, [V22])


def test_serving_a_village_of_another_township(build):
    build.station(lon=104.02, lat=30.05, serves=[V11, V22])
    result = summary(coverage_by_township(DAY))
    assert result[T1] == (True, 1, 1, 1, 50.0, 0, [V12])
    assert result[T2] == (False, 2, 0, 1, 50.0, 0, [V21])  # covered, but no platform in T2


def test_visited_counts_held_visits_and_done_lookbacks_in_the_period(build):
    since = default_since(DAY)
    assert since == date(2025, 4, 2)  # the 90 days up to and including as_of
    build.visit(V11, date(2025, 4, 2))  # first day of the period
    build.visit(V12, date(2025, 4, 1))  # a day too early
    build.visit(V22, DAY, status="planned")  # not held
    build.visit(V22, date(2025, 7, 1))  # after as_of
    # 2025-06-30 23:30 in Shanghai is 15:30 UTC: inside the period
    build.lookback(V21, datetime(2025, 6, 30, 15, 30, tzinfo=UTC))
    build.lookback(V22, None)  # not done
    result = coverage_by_township(DAY)
    assert (township(result, T1).visited, township(result, T2).visited) == (1, 1)
    assert result.totals.visited == 2
    # 2025-06-30 16:30 UTC is already 1 July in Shanghai
    build.lookback(V22, datetime(2025, 6, 30, 16, 30, tzinfo=UTC))
    assert township(coverage_by_township(DAY), T2).visited == 1
    # visited_since overrides the start of the period
    result = coverage_by_township(DAY, since=date(2025, 4, 1))
    assert township(result, T1).visited == 2
    # a village visited twice counts once
    build.visit(V11, date(2025, 5, 5))
    assert township(coverage_by_township(DAY), T1).visited == 1


def test_one_township(build):
    build.station(lon=104.02, lat=30.05)
    result = coverage_by_township(DAY, township=T1)
    assert [t.code for t in result.townships] == [T1]
    assert result.totals.villages + result.totals.communities == 2


@pytest.mark.parametrize(
    "part, whole, pct",
    [
        (0, 0, 0.0),
        (1, 3, 33.3),
        (2, 3, 66.7),
        (1, 8, 12.5),
        (1, 16, 6.3),
        (5, 5, 100.0),
        (401, 402, 99.8),
    ],
)
def test_percent_rounds_half_up_to_one_decimal(part, whole, pct):
    assert percent(part, whole) == pct
