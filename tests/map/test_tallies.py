"""`issue_tallies` (open problems per village, kept by a trigger) against a live COUNT(*)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from fieldwatch import datacache
from fieldwatch.extensions import db
from fieldwatch.issues import services as issues
from fieldwatch.models import Issue

OPEN = "('reported', 'accepted', 'in_progress', 'resolved')"
#: what the tallies must say, counted from the problems themselves
LIVE = f"""
    SELECT COALESCE(township_id, 0) AS township_id, COALESCE(area_id, 0) AS village_id,
           count(*) AS n,
           count(*) FILTER (WHERE status = 'reported') AS reported,
           count(*) FILTER (WHERE status = 'accepted') AS accepted,
           count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
           count(*) FILTER (WHERE status = 'resolved') AS resolved,
           count(*) FILTER (WHERE reopen_count > 0) AS reopened,
           round(sum(ST_X(location))::numeric, 6) AS sx, round(sum(ST_Y(location))::numeric, 6) AS sy,
           COALESCE(array_agg(due_on ORDER BY due_on)
                    FILTER (WHERE status = 'in_progress' AND due_on IS NOT NULL), '{{}}') AS due
    FROM issues WHERE status IN {OPEN}
    GROUP BY 1, 2 ORDER BY 1, 2
"""
KEPT = """
    SELECT township_id, village_id, n, reported, accepted, in_progress, resolved, reopened,
           round(sx::numeric, 6) AS sx, round(sy::numeric, 6) AS sy, due
    FROM issue_tallies WHERE n > 0 ORDER BY 1, 2
"""


def assert_tallies_match():
    db.session.flush()
    live = [tuple(r) for r in db.session.execute(text(LIVE))]
    kept = [tuple(r) for r in db.session.execute(text(KEPT))]
    assert kept == live
    # rows whose last problem left are all zero, not negative or left with a residue
    empty = db.session.execute(
        text(
            "SELECT count(*) FROM issue_tallies WHERE n = 0 AND (reported <> 0 OR accepted <> 0"
            " OR in_progress <> 0 OR resolved <> 0 OR reopened <> 0 OR sx <> 0 OR sy <> 0"
            " OR cardinality(due) <> 0)"
        )
    ).scalar()
    assert empty == 0
    assert db.session.execute(text("SELECT count(*) FROM issue_tallies WHERE n < 0")).scalar() == 0


@pytest.fixture
def reporter(make_user):
    return make_user("member")


def report(reporter, lon, lat, **kw):
    issue, _ = issues.report_issue(
        reporter, title="路面塌陷", category="roads", lon=lon, lat=lat, **kw
    )
    return issue


def test_inserts_are_counted_per_village(app, small_county, reporter):
    before = db.session.execute(text("SELECT count(*) FROM issue_tallies WHERE n > 0")).scalar()
    report(reporter, 104.02, 30.05)
    report(reporter, 104.03, 30.06)
    report(reporter, 104.07, 30.05)  # the other village of T1
    report(reporter, 104.13, 30.05)  # T2, a village known by its office point only
    report(reporter, 105.5, 31.5)  # outside the county: no village, no township
    assert_tallies_match()
    rows = db.session.execute(text("SELECT count(*) FROM issue_tallies WHERE n > 0")).scalar()
    assert rows == before + 4  # two in one village, one each in two more, one with none


def test_status_changes_due_dates_and_reopening(app, small_county, reporter):
    a = report(reporter, 104.02, 30.05)
    b = report(reporter, 104.021, 30.051)
    assert_tallies_match()
    a.status, a.due_on = "in_progress", date(2026, 3, 1)
    b.status, b.due_on = "in_progress", date(2026, 3, 1)  # the same date twice
    assert_tallies_match()
    b.due_on = date(2026, 2, 1)  # only one occurrence of 1 March may go
    assert_tallies_match()
    a.reopen_count = 1
    assert_tallies_match()
    a.status = "resolved"
    assert_tallies_match()
    a.status = "closed"  # no longer open: out of the tallies
    b.status = "duplicate"
    assert_tallies_match()
    a.status = "in_progress"  # reopened by a look-back
    a.reopen_count = 2
    assert_tallies_match()


def test_moves_between_villages_and_townships(app, small_county, reporter):
    issue = report(reporter, 104.02, 30.05)
    v12, t2 = small_county.villages["V12"], small_county.townships["T2"]
    issue.location = "SRID=4326;POINT(104.07 30.05)"
    issue.area_id = v12.id
    assert_tallies_match()
    issue.location = "SRID=4326;POINT(104.15 30.05)"
    issue.area_id, issue.township_id = None, t2.id
    assert_tallies_match()


def test_deletes_take_the_problem_away(app, small_county, reporter):
    keep = report(reporter, 104.02, 30.05)
    gone = report(reporter, 104.02, 30.0502)
    gone.status, gone.due_on = "in_progress", date(2026, 4, 1)
    assert_tallies_match()
    db.session.delete(gone)
    assert_tallies_match()
    db.session.delete(keep)
    assert_tallies_match()


def test_bulk_sql_updates_are_counted_too(app, small_county, reporter):
    for i in range(5):
        report(reporter, 104.01 + i * 0.01, 30.04)
    db.session.flush()
    db.session.execute(
        text(
            "UPDATE issues SET status = 'in_progress', due_on = DATE '2026-01-01' + id % 3 "
            "WHERE status = 'reported'"
        )
    )
    assert_tallies_match()
    db.session.execute(text("DELETE FROM issues WHERE id % 2 = 0"))
    assert_tallies_match()


def test_rebuild_gives_what_the_trigger_kept(app, small_county, reporter):
    for i in range(4):
        issue = report(reporter, 104.01 + i * 0.03, 30.03 + i * 0.01)
        issue.status, issue.due_on = "in_progress", date(2026, 5, 1) - timedelta(days=i)
    assert_tallies_match()
    kept = [tuple(r) for r in db.session.execute(text(KEPT))]
    db.session.execute(text("SELECT issue_tallies_rebuild()"))
    assert [tuple(r) for r in db.session.execute(text(KEPT))] == kept


def test_unrelated_updates_do_not_move_the_version(app, small_county, reporter):
    issue = report(reporter, 104.02, 30.05)
    db.session.flush()
    version = "SELECT last_value FROM issue_tallies_version"
    before = db.session.execute(text(version)).scalar()
    issue.title = "路面塌陷 (补充)"
    issue.priority = "urgent"
    db.session.flush()
    assert db.session.execute(text(version)).scalar() == before
    issue.status = "accepted"
    db.session.flush()
    assert db.session.execute(text(version)).scalar() > before


def test_the_tile_cache_follows_writes(client, login_as, small_county, reporter, keep_answers):
    """With the cache on, a low-zoom tile is kept until a problem is written."""
    from tests.tiles.test_tiles import decode, tile_of

    tiles = keep_answers(datacache.tiles)
    login_as("leader")
    report(reporter, 104.02, 30.05)
    db.session.flush()
    z, x, y = tile_of(104.02, 30.05, 6)

    def total():
        response = client.get(f"/tiles/issues/{z}/{x}/{y}.pbf")
        if response.status_code == 204:
            return 0
        return sum(f["properties"]["count"] for f in decode(response)["issues"]["features"])

    first = total()
    hits = tiles.hits
    assert total() == first and tiles.hits == hits + 1
    report(reporter, 104.03, 30.05)
    db.session.flush()
    assert total() == first + 1
    assert Issue.query.count() >= 2


def test_villages_whose_last_problem_left_stay_off_the_map(
    client, login_as, small_county, reporter
):
    gone = report(reporter, 104.02, 30.05)
    report(reporter, 104.15, 30.05)
    gone.status = "closed"  # V11's row stays, with n = 0
    assert_tallies_match()
    login_as("leader")
    for zoom in (9, 12):
        body = client.get(
            f"/api/v1/map/layers/issues?bbox=104,30,104.2,30.1&zoom={zoom}"
        ).get_json()
        assert sum(f["properties"].get("count", 1) for f in body["features"]) == 1
