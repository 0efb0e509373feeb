"""Planning a visit: the rules, the stops' places, the saved route and reordering."""

from datetime import timedelta

import pytest
from pyproj import Geod
from sqlalchemy import select

from fieldwatch.errors_core import Conflict, ValidationError
from fieldwatch.extensions import db
from fieldwatch.models import Visit, VisitStop
from fieldwatch.visits import queries, services

from .conftest import TODAY

GEOD = Geod(ellps="WGS84")


def km(a, b):
    return GEOD.inv(a[0], a[1], b[0], b[1])[2] / 1000.0


def plan(people, issues=(), **values):
    values.setdefault("title", "东风镇道路问题现场协商")
    values.setdefault("planned_for", TODAY + timedelta(days=7))
    return services.create_visit(people["leader"], issue_ids=[i.id for i in issues], **values)


def test_plan_a_visit_keeps_order_places_stops_and_computes_the_route(
    make_issue, people, small_county
):
    a = make_issue(104.02, 30.05)  # V11 (polygon), T1
    b = make_issue(104.07, 30.05, status="in_progress")  # V12, T1
    c = make_issue(104.17, 30.05, status="resolved")  # T2, nearest office V22
    start = (104.0, 30.0)
    visit = plan(
        people,
        [b, a, c],
        start={"lon": start[0], "lat": start[1]},
        start_label="政协办公室",
        participants={"members": [people["member"].id], "units": ["water"], "residents": 12},
    )
    db.session.commit()
    visit = db.session.get(Visit, visit.id)
    assert visit.status == "planned" and visit.leader_id == people["leader"].id
    assert [s.issue_id for s in visit.stops] == [b.id, a.id, c.id]
    places = [(s.area_id, s.township_id) for s in visit.stops]
    v, t = small_county.villages, small_county.townships
    assert places == [
        (v["V12"].id, t["T1"].id),
        (v["V11"].id, t["T1"].id),
        (v["V22"].id, t["T2"].id),
    ]
    assert visit.township_id == t["T1"].id  # where most stops are
    route = queries.route_of(visit)
    points = [(104.07, 30.05), (104.02, 30.05), (104.17, 30.05)]
    legs = [km(start, points[0]), km(points[0], points[1]), km(points[1], points[2])]
    assert [s["issue_id"] for s in route["stops"]] == [b.id, a.id, c.id]
    assert [s["km_from_previous"] for s in route["stops"]] == pytest.approx(legs, abs=1e-9)
    assert route["total_km"] == pytest.approx(sum(legs), abs=1e-9)
    assert visit.participants == {
        "members": [people["member"].id],
        "units": ["water"],
        "residents": 12,
    }


def test_free_points_are_stops_with_a_null_issue(make_issue, people, small_county):
    a = make_issue(104.02, 30.05)
    visit = services.create_visit(
        people["leader"],
        title="村委会座谈",
        planned_for=TODAY,
        stops=[{"lon": 104.12, "lat": 30.05, "label": "石桥村委会"}, {"issue_id": a.id}],
    )
    assert [s.issue_id for s in visit.stops] == [None, a.id]
    assert visit.stops[0].label == "石桥村委会"
    assert visit.stops[0].area_id == small_county.villages["V21"].id
    route = queries.route_of(visit)
    assert route["stops"][0]["issue_id"] is None
    assert route["stops"][0]["km_from_previous"] == 0.0  # no start
    assert route["total_km"] == pytest.approx(km((104.12, 30.05), (104.02, 30.05)))


def test_a_planned_date_in_the_past_is_refused_with_a_field_message(make_issue, people):
    a = make_issue()
    with pytest.raises(ValidationError) as caught:
        plan(people, [a], planned_for=TODAY - timedelta(days=1))
    assert "已经过去" in caught.value.errors["planned_for"][0]
    assert db.session.scalar(select(Visit.id)) is None
    assert plan(people, [a], planned_for=TODAY).planned_for == TODAY  # today is fine


def test_an_on_site_visit_needs_a_stop_but_a_meeting_does_not(people, small_county):
    with pytest.raises(ValidationError) as caught:
        plan(people, [], form="on_site")
    assert "至少需要一个走访点" in caught.value.errors["issue_ids"][0]
    meeting = plan(people, [], form="meeting")
    assert meeting.stops == [] and queries.route_of(meeting) == {"stops": [], "total_km": 0}


@pytest.mark.parametrize(
    ("status", "word"), [("closed", "已销号"), ("rejected", "不予立项"), ("duplicate", "重复")]
)
def test_an_ended_problem_cannot_be_a_stop(make_issue, people, status, word):
    open_one = make_issue()
    ended = make_issue(104.03, 30.05, status=status)
    with pytest.raises(ValidationError) as caught:
        plan(people, [open_one, ended])
    message = caught.value.errors["issue_ids"][0]
    assert ended.ref in message and word in message and "不能作为走访点" in message
    assert db.session.scalar(select(VisitStop.id)) is None


def test_other_bad_values_are_field_errors_together(people, small_county, make_issue):
    a = make_issue()
    with pytest.raises(ValidationError) as caught:
        services.create_visit(
            people["leader"],
            title="",
            form="picnic",
            planned_for="next tuesday",
            issue_ids=[a.id, a.id, 999999],
            start={"lon": 200, "lat": 30},
            participants={"members": [999999], "units": ["nope"], "residents": -1},
            leader_id=people["member"].id,
        )
    errors = caught.value.errors
    assert set(errors) >= {
        "title",
        "form",
        "planned_for",
        "issue_ids",
        "start.lon",
        "participants.members",
        "participants.units",
        "participants.residents",
        "leader_id",
    }
    assert db.session.scalar(select(Visit.id)) is None


def test_patch_stop_order_reorders_the_route(make_issue, people):
    a, b, c = make_issue(104.01, 30.05), make_issue(104.03, 30.05), make_issue(104.05, 30.05)
    visit = plan(people, [a, b, c], start={"lon": 104.0, "lat": 30.05})
    before = queries.route_of(visit)["total_km"]
    services.update_visit(visit, people["leader"], stop_order=[c.id, a.id, b.id])
    route = queries.route_of(visit)
    assert [s["issue_id"] for s in route["stops"]] == [c.id, a.id, b.id]
    assert route["total_km"] > before
    # positions (0-based) work too, e.g. where a stop is a free point
    services.update_visit(visit, people["leader"], stop_order=[1, 2, 0])
    assert [s["issue_id"] for s in queries.route_of(visit)["stops"]] == [a.id, b.id, c.id]
    with pytest.raises(ValidationError) as caught:
        services.update_visit(visit, people["leader"], stop_order=[a.id, b.id])
    assert "stop_order" in caught.value.errors
    assert [s.issue_id for s in visit.stops] == [a.id, b.id, c.id]


def test_optimise_applies_the_suggested_order(make_issue, people):
    a, b, c = make_issue(104.01, 30.05), make_issue(104.03, 30.05), make_issue(104.05, 30.05)
    visit = plan(people, [b, c, a], start={"lon": 104.06, "lat": 30.05}, optimise=True)
    assert [s.issue_id for s in visit.stops] == [c.id, b.id, a.id]


def test_a_failed_edit_changes_nothing(make_issue, people):
    a, b = make_issue(), make_issue(104.03, 30.05)
    visit = plan(people, [a, b], title="原主题")
    with pytest.raises(ValidationError):
        services.update_visit(
            visit, people["leader"], title="新主题", planned_for=TODAY - timedelta(days=3)
        )
    assert visit.title == "原主题" and visit.planned_for == TODAY + timedelta(days=7)


def test_an_unchanged_date_that_has_passed_does_not_block_an_edit(make_issue, people, freeze):
    from .conftest import NOW

    visit = plan(people, [make_issue()], planned_for=TODAY)
    freeze(NOW + timedelta(days=3))
    services.update_visit(visit, people["leader"], planned_for=TODAY, title="补记主题")
    assert visit.title == "补记主题"
    with pytest.raises(ValidationError) as caught:
        services.update_visit(visit, people["leader"], planned_for=TODAY + timedelta(days=1))
    assert "已经过去" in caught.value.errors["planned_for"][0]


def test_held_or_cancelled_visits_cannot_be_edited(make_issue, people):
    visit = plan(people, [make_issue()])
    services.cancel(visit, "暴雨", people["leader"])
    with pytest.raises(Conflict):
        services.update_visit(visit, people["leader"], title="改")


def test_leader_defaults_to_the_planner_and_must_be_a_leader(people, make_issue):
    visit = plan(people, [make_issue()])
    assert visit.leader_id == people["leader"].id
    with pytest.raises(ValidationError) as caught:
        plan(people, [make_issue()], leader_id=people["supervisor"].id)
    assert "leader_id" in caught.value.errors
