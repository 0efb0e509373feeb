"""The benchmark's province generator, at a tiny scale, into a fresh migrated database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `bench` is a top-level package beside `fieldwatch`
    sys.path.insert(0, str(REPO))

from bench import generate  # noqa: E402
from bench.province import SCALES  # noqa: E402


@pytest.fixture(scope="module")
def tiny_database(pg_instance):
    from fieldwatch import pg

    name = f"fw_bench_tiny_{os.getpid()}"
    url = pg.ensure_database(pg_instance, name, fresh=True)
    generate.migrate(url, pg_instance / "scratch")
    info = generate.load(url, SCALES["tiny"], seed=7, log=lambda *_: None)
    yield url, info
    pg.drop_database(pg_instance, name)


def _one(url: str, sql: str):
    conn = generate.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def test_counts_match_the_scale(tiny_database):
    url, info = tiny_database
    scale = SCALES["tiny"]
    levels = dict(_one(url, "SELECT level, count(*) FROM areas GROUP BY level"))
    assert levels == {
        "county": scale.n_counties,
        "township": scale.n_townships,
        "village": scale.n_villages,
    }
    assert _one(url, "SELECT count(*) FROM issues")[0][0] == scale.issues
    assert _one(url, "SELECT count(*) FROM stations")[0][0] == scale.stations
    assert _one(url, "SELECT count(*) FROM visits")[0][0] == scale.visits
    assert _one(url, "SELECT count(*) FROM followups")[0][0] == scale.followups
    assert _one(url, "SELECT count(*) FROM station_serves")[0][0] >= scale.stations - 1
    assert info["counts"]["issues"] == scale.issues
    assert generate.is_loaded(url, scale, seed=7)
    assert not generate.is_loaded(url, scale, seed=8)


def test_every_issue_lies_in_its_village_and_township(tiny_database):
    url, _ = tiny_database
    misplaced = _one(
        url,
        """
        SELECT count(*) FROM issues i
        JOIN areas t ON t.id = i.township_id AND t.level = 'township'
        JOIN areas v ON v.id = i.area_id AND v.level = 'village' AND v.parent_id = t.id
        WHERE ST_Intersects(t.boundary, i.location) AND ST_Intersects(v.boundary, i.location)
        """,
    )
    assert misplaced[0][0] == _one(url, "SELECT count(*) FROM issues")[0][0]


def test_places_are_valid_and_tile_their_parents(tiny_database):
    url, _ = tiny_database
    invalid = _one(url, "SELECT count(*) FROM areas WHERE NOT ST_IsValid(boundary)")
    assert invalid[0][0] == 0
    gaps = _one(
        url,
        """
        SELECT max(abs(ST_Area(t.boundary) - s.total) / ST_Area(t.boundary))
        FROM areas t JOIN (
            SELECT parent_id, sum(ST_Area(boundary)) AS total FROM areas
            WHERE level = 'village' GROUP BY parent_id
        ) s ON s.parent_id = t.id
        """,
    )
    assert gaps[0][0] < 1e-9


def test_refs_are_unique_and_sequences_follow_the_load(tiny_database):
    url, _ = tiny_database
    refs = _one(url, "SELECT count(DISTINCT ref), count(*) FROM issues")[0]
    assert refs[0] == refs[1]
    assert _one(url, "SELECT count(*) FROM issues WHERE ref !~ '^FW-\\d{4}-\\d{6}$'")[0][0] == 0
    nextval = _one(url, "SELECT nextval(pg_get_serial_sequence('issues', 'id'))")[0][0]
    assert nextval == SCALES["tiny"].issues + 1


def test_the_same_seed_makes_the_same_places():
    from bench import province

    a = province.build(SCALES["tiny"], 7)
    b = province.build(SCALES["tiny"], 7)
    assert a.villages.boundary == b.villages.boundary
    assert a.villages.code == b.villages.code
