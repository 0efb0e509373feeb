"""The coverage answer is kept per process until a place, station, visit or look-back is written."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from fieldwatch import datacache
from fieldwatch.extensions import db
from tests.coverage.conftest import V11, V21, V22, utc


@pytest.fixture
def cached(keep_answers):
    return keep_answers(datacache.coverage)


def totals(client) -> dict:
    response = client.get("/api/v1/coverage?as_of=2025-06-30")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()["totals"]


def test_writes_invalidate_the_kept_answer(client, login_as, build, cached):
    login_as("leader")
    build.station(lon=104.02, lat=30.05, serves=[V11])
    first = totals(client)
    hits = cached.hits
    assert totals(client) == first and cached.hits > hits  # the same answer, from the cache

    build.station("township_platform", lon=104.15, lat=30.05, serves=[V21])
    second = totals(client)
    assert second["covered"] == first["covered"] + 1

    build.visit(V22, date(2025, 6, 1))
    assert totals(client)["visited"] == second["visited"] + 1

    build.lookback(V11, utc(2025, 6, 20, 3))
    assert totals(client)["visited"] == second["visited"] + 2


def test_every_coverage_table_moves_the_version(app, small_county):
    version = "SELECT last_value FROM coverage_version"
    for table, sql in (
        ("areas", "UPDATE areas SET name = name WHERE code = '512099001001'"),
        ("stations", "UPDATE stations SET name = name"),
        ("station_serves", "DELETE FROM station_serves WHERE false"),
        ("visits", "UPDATE visits SET title = title"),
        ("visit_stops", "UPDATE visit_stops SET label = label"),
        ("followups", "UPDATE followups SET note = note"),
    ):
        before = db.session.execute(text(version)).scalar()
        db.session.execute(text(sql))
        assert db.session.execute(text(version)).scalar() > before, table
