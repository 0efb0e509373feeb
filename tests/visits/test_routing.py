"""The route: exact geodesic legs (pyproj) and a suggested order checked against brute force."""

import itertools
import random

import pytest
from pyproj import Geod

from fieldwatch.visits import routing

GEOD = Geod(ellps="WGS84")


def km(a, b):
    return GEOD.inv(a[0], a[1], b[0], b[1])[2] / 1000.0


def brute_force(points, start):
    """The shortest open path over every permutation (the optimum), with pyproj's own km."""
    n = len(points)
    d = [[km(points[a], points[b]) for b in range(n)] for a in range(n)]
    first = [km(start, p) if start else 0.0 for p in points]
    best = float("inf")
    for perm in itertools.permutations(range(n)):
        best = min(best, first[perm[0]] + sum(d[a][b] for a, b in itertools.pairwise(perm)))
    return best


def length(points, order, start):
    return routing.route([{"lon": p[0], "lat": p[1]} for p in (points[i] for i in order)], start)[
        "total_km"
    ]


def random_sets(seed, count):
    rng = random.Random(seed)
    for trial in range(count):
        n = rng.randint(2, 8)
        points = [(104.0 + rng.random() * 0.2, 30.0 + rng.random() * 0.1) for _ in range(n)]
        start = (104.0 + rng.random() * 0.2, 30.0 + rng.random() * 0.1) if trial % 2 else None
        yield points, start


def test_km_from_previous_and_total_are_pyproj_geodesics():
    start = (104.0, 30.0)
    points = [(104.01, 30.0), (104.01, 30.02), (104.05, 30.03)]
    result = routing.route(
        [{"issue_id": 7, "lon": x, "lat": y} for x, y in points[:2]]
        + [{"issue_id": None, "lon": points[2][0], "lat": points[2][1]}],
        start,
    )
    expected = [km(start, points[0]), km(points[0], points[1]), km(points[1], points[2])]
    assert [s["km_from_previous"] for s in result["stops"]] == pytest.approx(expected, abs=1e-9)
    assert result["total_km"] == pytest.approx(sum(expected), abs=1e-9)
    # an order of magnitude check on pyproj itself: 0.01° of longitude at 30° N ≈ 0.965 km
    assert result["stops"][0]["km_from_previous"] == pytest.approx(0.9649, abs=0.001)
    assert [s["issue_id"] for s in result["stops"]] == [7, 7, None]
    assert [(s["lon"], s["lat"]) for s in result["stops"]] == points


def test_without_a_start_the_first_leg_is_zero_and_there_is_no_return():
    points = [(104.0, 30.0), (104.02, 30.0), (104.02, 30.02)]
    result = routing.route([{"lon": x, "lat": y} for x, y in points])
    assert result["stops"][0]["km_from_previous"] == 0.0
    assert result["total_km"] == pytest.approx(
        km(points[0], points[1]) + km(points[1], points[2]), abs=1e-9
    )
    assert routing.route([]) == {"stops": [], "total_km": 0}


def test_saved_order_is_kept_not_optimised():
    points = [(104.0, 30.0), (104.05, 30.0), (104.01, 30.0)]  # a deliberate zig-zag
    result = routing.route([{"lon": x, "lat": y} for x, y in points])
    assert result["total_km"] == pytest.approx(km(points[0], points[1]) + km(points[1], points[2]))


@pytest.mark.parametrize("seed", [2026, 7, 311])
def test_suggested_order_within_10_percent_of_brute_force(seed):
    ratios = []
    for points, start in random_sets(seed, 60):
        optimum = brute_force(points, start)
        got = length(points, routing.suggest_order(points, start), start)
        assert sorted(routing.suggest_order(points, start)) == list(range(len(points)))
        ratios.append(got / optimum)
    assert max(ratios) <= 1.10
    # the exact solver finds the optimum itself (not just "within 10%")
    assert max(ratios) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("seed", [2026, 99])
def test_heuristic_alone_within_10_percent_of_brute_force(seed):
    """Nearest neighbour + 2-opt (used past the exact limit) on small sets, against the optimum."""
    for points, start in random_sets(seed, 60):
        matrix = routing.distance_matrix(points)
        start_row = [km(start, p) for p in points] if start else None
        order = routing.heuristic_order(matrix, start_row)
        assert sorted(order) == list(range(len(points)))
        assert length(points, order, start) <= 1.10 * brute_force(points, start)


def test_a_start_changes_where_the_path_begins():
    line = [(104.00, 30.0), (104.01, 30.0), (104.02, 30.0), (104.03, 30.0)]
    shuffled = [line[2], line[0], line[3], line[1]]
    east = routing.suggest_order(shuffled, start=(104.05, 30.0))
    assert [shuffled[i] for i in east] == line[::-1]
    west = routing.suggest_order(shuffled, start=(103.95, 30.0))
    assert [shuffled[i] for i in west] == line


def test_large_sets_use_the_heuristic_and_stay_reasonable():
    rng = random.Random(5)
    points = [(104.0 + rng.random() * 0.2, 30.0 + rng.random() * 0.1) for _ in range(25)]
    order = routing.suggest_order(points, (104.0, 30.0))
    assert sorted(order) == list(range(25))
    nearest_neighbour_only = routing._nearest_neighbour(routing.distance_matrix(points), order[0])
    assert length(points, order, (104.0, 30.0)) <= length(
        points, nearest_neighbour_only, (104.0, 30.0)
    )
