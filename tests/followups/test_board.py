"""Every counter of the supervisor's board on a small hand-made quarter, with exact numbers.

The story (2026, Shanghai; T1 = 东风镇, T2 = 西岭乡; water and transport units):

- I1 T1 water roads: reported 1/5, due 2/4, resolved A 1/20; look-back F1 due 2/19, done
  2/10 on site, solved, satisfied: closed. Spot check S1 due 3/18, done 3/19 (late) on
  site, regressed, dissatisfied: reopened (rework due 4/18).
- I2 T1 water roads: reported 1/5, due 2/4, resolved A 2/10 (late); F2 due 3/12 done 2/20
  with no position, unsolved, dissatisfied: reopened (due 3/22); resolved A 3/1, the rework
  look-back moves to 3/31, done 3/5 at 50 m, solved, basically satisfied: closed after 59 days.
- I3 T2 transport parking: reported 1/10, due 1/25, still in progress (overdue).
- I4 T2 transport roads: reported 1/10, due 2/9, resolved C 2/1, closed by a supervisor 2/15.
- I5 T2 water parking: reported 2/1, due 2/16, resolved A 2/5; F5 due 3/7 not done (overdue).
- I6 T1 transport roads: reported 3/1, due 3/31, resolved B 3/10 planned 3/22 (due this week).
- I7 T1 water roads: reported 3/1, resolved A 3/15; F7 due 4/14.
- I8 T1 water roads: reported 1/5, due 2/4, resolved A 1/20; F8 due 2/19 done 2/25 (late)
  at 201 m (off site), solved: closed after 51 days, not on time.
- I9 T2 transport roads: reported 3/1, resolved C 3/12: waits for a supervisor's review.
Today is Friday 20 March 2026; the quarter is 2026Q1.
"""

from datetime import date

import pytest

from fieldwatch.extensions import db
from fieldwatch.followups import queries
from fieldwatch.followups.queries import Period, Scope
from fieldwatch.followups.services import record_followup, schedule_followup
from fieldwatch.issues import services as issues
from fieldwatch.models import Visit, VisitStop
from fieldwatch.stations.services import create_station

Q1 = Period(date(2026, 1, 1), date(2026, 3, 31))
P1 = (104.02, 30.05)  # T1, V11
P2 = (104.12, 30.05)  # T2, V21


@pytest.fixture
def quarter(make_issue, people, lb, freeze, small_county):
    """Build the story above; return the issues by name and today's date."""
    at, pending = lb.at, lb.pending
    member, supervisor = people["member"], people["supervisor"]
    made = {}

    def new(name, when, status, point, unit, category, due_on, answer="A", planned=None):
        freeze(at(*when))
        made[name] = make_issue(
            status, answer, lon=point[0], lat=point[1], unit=unit, category=category,
            due_on=due_on, planned=planned, title=name,
        )  # fmt: skip
        return made[name]

    def resolve(issue, when, answer="A"):
        freeze(at(*when))
        staff = people["unit"] if issue.unit.code == "water" else people["transport"]
        issues.transition(issue, "resolved", staff, answer_class=answer, note="已处理")

    def look(issue, when, finding, point, satisfaction=None, followup=None):
        freeze(at(*when))
        target = followup or pending(issue)[0]
        record_followup(target, member, finding, *(point or (None, None)), 5,
                        satisfaction=satisfaction)  # fmt: skip

    i1 = new("I1", (1, 5), "in_progress", P1, "water", "roads", "2026-02-04")
    i2 = new("I2", (1, 5), "in_progress", P1, "water", "roads", "2026-02-04")
    i8 = new("I8", (1, 5), "in_progress", P1, "water", "roads", "2026-02-04")
    new("I3", (1, 10), "in_progress", P2, "transport", "parking", "2026-01-25")
    i4 = new("I4", (1, 10), "in_progress", P2, "transport", "roads", "2026-02-09")
    resolve(i1, (1, 20))
    resolve(i8, (1, 20))
    resolve(i4, (2, 1), "C")
    i5 = new("I5", (2, 1), "in_progress", P2, "water", "parking", "2026-02-16")
    resolve(i5, (2, 5))
    look(i1, (2, 10), "solved", P1, "satisfied")
    resolve(i2, (2, 10))
    freeze(at(2, 15))
    issues.transition(i4, "closed", supervisor, note="已向群众解释")
    look(i2, (2, 20), "unsolved", None, "dissatisfied")
    look(i8, (2, 25), "solved", lb.north(*P1, 201))
    resolve(i2, (3, 1))
    i6 = new("I6", (3, 1), "in_progress", P1, "transport", "roads", "2026-03-31")
    i7 = new("I7", (3, 1), "in_progress", P1, "water", "roads", "2026-03-31")
    i9 = new("I9", (3, 1), "in_progress", P2, "transport", "roads", "2026-03-31")
    look(i2, (3, 5), "solved", lb.north(*P1, 50), "basically_satisfied")
    freeze(at(3, 10))
    spot = schedule_followup(supervisor, issue=i1, due_on="2026-03-18")
    freeze(at(3, 10))
    issues.transition(i6, "resolved", people["transport"], answer_class="B", note="列入计划",
                      due_on="2026-03-22")  # fmt: skip
    resolve(i9, (3, 12), "C")
    resolve(i7, (3, 15))
    look(i1, (3, 19), "regressed", P1, "dissatisfied", followup=spot)
    freeze(at(3, 20))
    db.session.commit()
    return made


def by_code(rows, small_county):
    names = {small_county.townships[k].code: k for k in ("T1", "T2")}
    return {names.get(r["code"], r["code"]): r for r in rows}


def test_the_story_left_the_problems_where_expected(quarter):
    status = {name: issue.status for name, issue in quarter.items()}
    assert status == {"I1": "in_progress", "I2": "closed", "I3": "in_progress", "I4": "closed",
                      "I5": "resolved", "I6": "resolved", "I7": "resolved", "I8": "closed",
                      "I9": "resolved"}  # fmt: skip
    assert quarter["I1"].reopen_count == 1 and quarter["I2"].reopen_count == 1


def test_counters_by_township(quarter, small_county):
    rows, totals = queries.breakdown(Scope(), Q1, "township")
    t = by_code(rows, small_county)
    assert set(t) == {"T1", "T2"}
    expected_t1 = {
        "resolved": 5, "closed": 2, "closed_after_lookback": 2, "on_time_closed": 1,
        "open_overdue": 0, "lookbacks_done": 5, "issue_lookbacks": 5, "reopened": 2,
        "off_site": 2, "lookbacks_on_time": 3, "satisfied": 1, "basically_satisfied": 1,
        "dissatisfied": 2, "rework_rate": 40.0, "on_time_rate": 50.0,
        "avg_days_to_close": 55.0, "satisfaction_pct": 50.0,
    }  # fmt: skip
    assert {k: t["T1"][k] for k in expected_t1} == expected_t1
    expected_t2 = {
        "resolved": 3, "closed": 1, "closed_after_lookback": 0, "on_time_closed": 1,
        "open_overdue": 2, "lookbacks_done": 0, "reopened": 0, "off_site": 0,
        "rework_rate": None, "on_time_rate": 33.3, "avg_days_to_close": 36.0,
        "satisfaction_pct": None,
    }  # fmt: skip
    assert {k: t["T2"][k] for k in expected_t2} == expected_t2
    expected_totals = {
        "resolved": 8, "closed": 3, "closed_after_lookback": 2, "on_time_closed": 2,
        "open_overdue": 2, "lookbacks_done": 5, "reopened": 2, "off_site": 2,
        "rework_rate": 40.0, "on_time_rate": 40.0, "avg_days_to_close": 48.7,
        "satisfaction_pct": 50.0,
    }  # fmt: skip
    assert {k: totals[k] for k in expected_totals} == expected_totals


def test_counters_by_unit_and_category(quarter):
    rows, _ = queries.breakdown(Scope(), Q1, "unit")
    units = {r["code"]: r for r in rows}
    assert set(units) == {"water", "transport"}
    water, transport = units["water"], units["transport"]
    assert (water["resolved"], water["closed"], water["on_time_closed"], water["open_overdue"]) == (
        5, 2, 1, 1,
    )  # fmt: skip
    assert (water["on_time_rate"], water["rework_rate"], water["lookbacks_done"]) == (33.3, 40.0, 5)
    assert (transport["resolved"], transport["closed"], transport["open_overdue"]) == (3, 1, 1)
    assert (transport["on_time_rate"], transport["lookbacks_done"]) == (50.0, 0)
    rows, _ = queries.breakdown(Scope(), Q1, "category")
    cats = {r["code"]: r for r in rows}
    assert set(cats) == {"roads", "parking"}
    assert (cats["roads"]["resolved"], cats["roads"]["closed"], cats["roads"]["on_time_rate"]) == (
        7, 3, 66.7,
    )  # fmt: skip
    assert (cats["parking"]["resolved"], cats["parking"]["open_overdue"]) == (1, 2)
    assert cats["parking"]["on_time_rate"] == 0.0


def test_headline_counts(quarter):
    assert queries.headline(Scope(), Q1) == {
        "due_this_week": 1,  # F6, due Sunday 22 March
        "overdue": 1,  # F5, due 7 March
        "done": 5,
        "off_site": 2,
        "class_c": 1,  # I9 (I4 was closed by a supervisor)
        "waiting_rework": 1,  # I1's next look-back, while its unit reworks it
    }


def test_scope_and_filters_narrow_every_counter(quarter, small_county, people):
    t2 = small_county.townships["T2"]
    scoped = Scope.of(people["supervisor_t2"])
    assert scoped.township_id == t2.id
    rows, totals = queries.breakdown(scoped, Q1, "township")
    assert [r["code"] for r in rows] == [t2.code]
    assert (totals["resolved"], totals["closed"], totals["open_overdue"]) == (3, 1, 2)
    assert queries.headline(scoped, Q1) == {
        "due_this_week": 0, "overdue": 1, "done": 0, "off_site": 0, "class_c": 1,
        "waiting_rework": 0,
    }  # fmt: skip
    # the user's own scope wins over a filter for another township
    t1 = small_county.townships["T1"]
    assert Scope.of(people["supervisor_t2"], t1.id).township_id == t2.id
    water = Scope(unit_id=quarter["I1"].unit_id)
    assert queries.headline(water, Q1)["done"] == 5


def test_lists_by_state_with_days_overdue(quarter, people):
    overdue, more = queries.followups(Scope(), "overdue")
    assert [(r.title, r.days_overdue, r.state) for r in overdue] == [("I5", 13, "overdue")]
    assert more is False
    due, _ = queries.followups(Scope(), "due")
    assert [(r.title, r.due_on) for r in due] == [
        ("I6", date(2026, 3, 22)), ("I7", date(2026, 4, 14)), ("I1", date(2026, 4, 18)),
    ]  # fmt: skip
    done, _ = queries.followups(Scope(), "done")
    assert [r.title for r in done] == ["I1", "I2", "I8", "I2", "I1"]  # newest first
    first, more = queries.followups(Scope(), "done", limit=2)
    assert len(first) == 2 and more is True


def test_overdue_as_time_passes(quarter, freeze, lb):
    """Due today is still due; the day after it is overdue by one day, and so on."""
    freeze(lb.at(3, 22))  # Sunday: F6 is due today
    assert queries.followups(Scope(), "due")[0][0].title == "I6"
    assert queries.headline(Scope(), Q1)["due_this_week"] == 1
    freeze(lb.at(3, 22, 17))  # 01:00 on Monday 23 March in Shanghai, still the 22nd in UTC
    overdue = {r.title: r.days_overdue for r in queries.followups(Scope(), "overdue")[0]}
    assert overdue == {"I5": 16, "I6": 1}
    freeze(lb.at(4, 20))
    overdue = {r.title: r.days_overdue for r in queries.followups(Scope(), "overdue")[0]}
    assert overdue == {"I5": 44, "I6": 29, "I7": 6, "I1": 2}
    # I1 is back with its unit: overdue by date, but nobody can look back yet
    actionable = queries.followups(Scope(), "overdue", recordable=True)[0]
    assert {r.title for r in actionable} == {"I5", "I6", "I7"}
    assert queries.headline(Scope(), Q1)["overdue"] == 3


def test_on_time_rate_follows_its_formula(quarter, freeze, lb):
    """on-time closed ÷ (closed + open and overdue): an overdue rework drags it down."""
    _, totals = queries.breakdown(Scope(), Q1, "township")
    assert totals["on_time_closed"] / (totals["closed"] + totals["open_overdue"]) == 2 / 5
    freeze(lb.at(3, 31))  # I6's look-back (due 3/22) is overdue now: a third open and overdue
    _, totals = queries.breakdown(Scope(), Q1, "township")
    assert (totals["open_overdue"], totals["on_time_rate"]) == (3, 33.3)


def test_quarterly_ranking(quarter, small_county, people, app):
    t1, t2 = small_county.townships["T1"], small_county.townships["T2"]
    create_station("红星村协商站", "street_block", 104.02, 30.05,
                   village_code=small_county.villages["V11"].code,
                   established_on=date(2025, 1, 1))  # fmt: skip
    visit = Visit(title="西岭乡停车难现场协商", form="on_site", status="held",
                  planned_for=date(2026, 3, 5), held_on=date(2026, 3, 5), township_id=t2.id)  # fmt: skip
    db.session.add(visit)
    db.session.flush()
    db.session.add(VisitStop(visit_id=visit.id, position=0, location="SRID=4326;POINT(104.12 30.05)",
                             township_id=t2.id))  # fmt: skip
    db.session.flush()
    rows = {r["code"]: r for r in queries.ranking(Q1)}
    r1, r2 = rows[t1.code], rows[t2.code]
    assert (r1["covered"], r1["villages"], r1["visits"], r1["closed"], r1["open_overdue"]) == (
        1, 2, 0, 2, 0,
    )  # fmt: skip
    assert (r1["lookbacks_due"], r1["lookbacks_on_time"]) == (4, 2)
    assert r1["shares"] == {"coverage": 50.0, "visits": 0.0, "closed": 100.0,
                            "lookbacks_on_time": 50.0}  # fmt: skip
    assert r2["shares"] == {"coverage": 0.0, "visits": 100.0, "closed": 33.3,
                            "lookbacks_on_time": 0.0}  # fmt: skip
    # 0.3 × 50 + 0.2 × 0 + 0.3 × 100 + 0.2 × 50 = 55; 0.3 × 0 + 0.2 × 100 + 0.3 × 33.3 + 0 = 30
    assert (r1["score"], r1["rank"]) == (55.0, 1)
    assert (r2["score"], r2["rank"]) == (30.0, 2)
    # the weights come from the configuration
    app.config["RANKING_WEIGHTS"] = {"coverage": 0, "visits": 1, "closed": 0,
                                     "lookbacks_on_time": 0}  # fmt: skip
    try:
        rows = queries.ranking(Q1)
        assert [(r["code"], r["score"], r["rank"]) for r in rows] == [
            (t2.code, 100.0, 1), (t1.code, 0.0, 2),
        ]  # fmt: skip
    finally:
        app.config["RANKING_WEIGHTS"] = {"coverage": 0.3, "visits": 0.2, "closed": 0.3,
                                         "lookbacks_on_time": 0.2}  # fmt: skip


def test_a_quiet_quarter_has_no_rates_rather_than_zeros(quarter):
    rows, totals = queries.breakdown(Scope(), Period(date(2025, 10, 1), date(2025, 12, 31)))
    assert totals["resolved"] == 0 and totals["closed"] == 0
    assert totals["rework_rate"] is None and totals["satisfaction_pct"] is None
    assert totals["avg_days_to_close"] is None
    # only problems reported before the quarter ended can be open and overdue in it
    assert totals["open_overdue"] == 0 and totals["on_time_rate"] is None


def test_quarters_parse_and_label():
    assert queries.parse_quarter("2026Q1") == Q1
    assert queries.parse_quarter("2025-q4") == Period(date(2025, 10, 1), date(2025, 12, 31))
    assert queries.quarter_label(queries.quarter_of(date(2026, 8, 15))) == "2026Q3"
