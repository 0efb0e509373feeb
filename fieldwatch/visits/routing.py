"""A visit's route: legs in geodesic km, and a short order for the stops.

DESIGN.md's route is an *open path*: from the start (if any) through the stops
in the saved order, no return, straight-line geodesic km. Pure Python (pyproj
through `fieldwatch.geo.distance_m`); no database.

The suggested order: exact (Held-Karp dynamic programming) up to
`EXACT_LIMIT` stops, then nearest neighbour polished by 2-opt and or-opt.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from fieldwatch.geo import distance_m

LonLat = tuple[float, float]
#: up to this many stops the order is the true optimum (2^n·n² steps: 8 stops ≈ 16k)
EXACT_LIMIT = 10


def legs_km(points: Sequence[LonLat], start: LonLat | None = None) -> list[float]:
    """Return each stop's km from the previous one (the first from `start`, 0 without one)."""
    legs = []
    previous = start
    for point in points:
        legs.append(distance_m(previous, point) / 1000.0 if previous is not None else 0.0)
        previous = point
    return legs


def route(stops: Sequence[dict], start: LonLat | None = None) -> dict:
    """Return DESIGN.md's route for stops `[{"issue_id", "lon", "lat"}]` in the given order."""
    legs = legs_km([(s["lon"], s["lat"]) for s in stops], start)
    return {
        "stops": [
            {
                "issue_id": s.get("issue_id"),
                "lon": s["lon"],
                "lat": s["lat"],
                "km_from_previous": km,
            }
            for s, km in zip(stops, legs, strict=True)
        ],
        "total_km": sum(legs),
    }


def path_length(order: Sequence[int], matrix, start_row=None) -> float:
    """Return the length of an open path over `order` (plus the leg from the start row)."""
    total = start_row[order[0]] if start_row is not None and order else 0.0
    for a, b in zip(order, order[1:], strict=False):
        total += matrix[a][b]
    return total


def distance_matrix(points: Sequence[LonLat]) -> list[list[float]]:
    """Return the symmetric geodesic distance matrix in km."""
    n = len(points)
    matrix = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            matrix[i][j] = matrix[j][i] = distance_m(points[i], points[j]) / 1000.0
    return matrix


def suggest_order(points: Sequence[LonLat], start: LonLat | None = None) -> list[int]:
    """Return an order of `points` (indices) keeping the open path from `start` short."""
    n = len(points)
    if n <= 1:
        return list(range(n))
    matrix = distance_matrix(points)
    start_row = [distance_m(start, p) / 1000.0 for p in points] if start is not None else None
    if n <= EXACT_LIMIT:
        return exact_order(matrix, start_row)
    return heuristic_order(matrix, start_row)


def exact_order(matrix, start_row=None) -> list[int]:
    """Return the shortest open path (Held-Karp); with no start, it may begin anywhere."""
    n = len(matrix)
    full = (1 << n) - 1
    inf = float("inf")
    # cost[mask][j]: shortest path over the stops in mask, ending at j
    cost = [[inf] * n for _ in range(1 << n)]
    back = [[-1] * n for _ in range(1 << n)]
    for j in range(n):
        cost[1 << j][j] = start_row[j] if start_row is not None else 0.0
    for mask in range(1, full + 1):
        row = cost[mask]
        for j in range(n):
            here = row[j]
            if here == inf or not (mask >> j) & 1:
                continue
            for k in range(n):
                if (mask >> k) & 1:
                    continue
                nxt = mask | (1 << k)
                value = here + matrix[j][k]
                if value < cost[nxt][k]:
                    cost[nxt][k] = value
                    back[nxt][k] = j
    end = min(range(n), key=lambda j: cost[full][j])
    order, mask = [], full
    while end != -1:
        order.append(end)
        end, mask = back[mask][end], mask & ~(1 << end)
    return order[::-1]


def heuristic_order(matrix, start_row=None, starts: int = 8, kicks: int | None = None) -> list[int]:
    """Return a short open path: nearest-neighbour tours polished by 2-opt and or-opt.

    Several tours are tried (from the stop nearest the start, then from the next
    nearest ones; without a start, from spread-out stops) and the shortest kept,
    then `kicks` rounds of iterated local search (a seeded, repeatable shuffle).
    """
    n = len(matrix)
    if start_row is not None:
        firsts = sorted(range(n), key=lambda j: start_row[j])[:starts]
    else:
        firsts = list(range(n))[:: max(1, n // starts)][:starts]
    best, best_length = None, float("inf")
    for first in firsts:
        order = _improve(_nearest_neighbour(matrix, first), matrix, start_row)
        length = path_length(order, matrix, start_row)
        if length < best_length - 1e-12:
            best, best_length = order, length
    # iterated local search: kick the best path (swap two random runs) and polish again
    rng = random.Random(n)
    if kicks is None:
        kicks = max(5, 300 // n)
    for _ in range(kicks if n >= 4 else 0):
        i, j, k = sorted(rng.sample(range(1, n), 3)) if n > 3 else (1, 2, 3)
        kicked = best[:i] + best[j:k] + best[i:j] + best[k:]
        order = _improve(kicked, matrix, start_row)
        length = path_length(order, matrix, start_row)
        if length < best_length - 1e-12:
            best, best_length = order, length
    return best


def _nearest_neighbour(matrix, first: int) -> list[int]:
    order, left = [first], set(range(len(matrix))) - {first}
    while left:
        last = order[-1]
        nearest = min(left, key=lambda j: (matrix[last][j], j))
        order.append(nearest)
        left.remove(nearest)
    return order


def _improve(order: list[int], matrix, start_row) -> list[int]:
    """Apply 2-opt reversals and or-opt moves until neither shortens the path.

    Each candidate move is priced in O(1) from the edges it changes. The path is
    held as [S] + order, where S is the start (a row of distances, or all zeros
    without one) and never moves; the end is free (an open path).
    """
    n = len(order)
    start = start_row if start_row is not None else [0.0] * n

    def cost(a: int, b: int) -> float:
        if a < 0:
            return start[b]
        if b < 0:
            return start[a]
        return matrix[a][b]

    path = [-1, *order]
    last = n  # index of the last stop in path
    eps = 1e-12
    improved = True
    while improved:
        improved = False
        # 2-opt: reverse path[i..k] (the tail may be reversed too: the end is free)
        for i in range(1, last):
            for k in range(i + 1, last + 1):
                delta = cost(path[i - 1], path[k]) - cost(path[i - 1], path[i])
                if k < last:
                    delta += cost(path[i], path[k + 1]) - cost(path[k], path[k + 1])
                if delta < -eps:
                    path[i : k + 1] = path[i : k + 1][::-1]
                    improved = True
        # or-opt: move a run of 1–3 stops (either way round) between two others
        for size in (1, 2, 3):
            for i in range(1, last - size + 2):
                j = i + size - 1
                before, after = path[i - 1], path[j + 1] if j < last else None
                removed = -cost(before, path[i])
                if after is not None:
                    removed += cost(before, after) - cost(path[j], after)
                for t in range(0, last + 1):
                    if i - 1 <= t <= j:
                        continue
                    a, b = path[t], path[t + 1] if t < last else None
                    for first, end in ((path[i], path[j]), (path[j], path[i])):
                        added = cost(a, first)
                        if b is not None:
                            added += cost(end, b) - cost(a, b)
                        if removed + added < -eps:
                            run = path[i : j + 1] if first == path[i] else path[i : j + 1][::-1]
                            rest = path[:i] + path[j + 1 :]
                            at = t + 1 if t < i else t + 1 - size
                            path = rest[:at] + run + rest[at:]
                            improved = True
                            break
                    if improved:
                        break
                if improved:
                    break
            if improved:
                break
    return path[1:]
