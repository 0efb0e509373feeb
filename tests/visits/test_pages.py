"""The visit pages: planner (form messages), record (hold, cancel), print, calendar; stations."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldwatch.extensions import db
from fieldwatch.models import Issue, Visit
from fieldwatch.stations.services import create_station
from fieldwatch.visits import queries, services

from .conftest import TODAY


def form_values(issues, **values):
    data = {
        "title": "东风镇积水点现场协商",
        "form": "on_site",
        "planned_for": (TODAY + timedelta(days=3)).isoformat(),
        "stops": json.dumps([{"issue_id": i.id} for i in issues]),
        "residents": "5",
    }
    data.update(values)
    return data


def field_error(html: str, name: str) -> str:
    found = re.findall(
        rf'<div class="invalid-feedback d-block" data-field="{name}">([^<]*)</div>', html
    )
    return " ".join(found)


def test_planner_page_has_the_map_and_no_inlined_candidates(client, login_as, people, make_issue):
    issue = make_issue(title="独一无二的井盖问题")
    login_as(people["leader"])
    response = client.get("/visits/plan")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "folium-map" in html and "leaflet.draw.js" in html
    assert "js/visit-planner.js" in html
    assert "独一无二的井盖问题" not in html and issue.ref not in html  # fetched by the browser
    config = json.loads(re.search(r'id="fw-planner-config">(.*?)</script>', html, re.S).group(1))
    assert config["urls"]["candidates"] == "/api/v1/visits/candidates"
    assert config["draw"]
    nonce = re.search(r'<script nonce="([^"]+)">', html).group(1)
    assert re.search(
        r"script-src 'self' 'nonce-" + re.escape(nonce), response.headers["Content-Security-Policy"]
    )
    for tag in re.findall(r"<script(?![^>]*src=)[^>]*>", html):
        assert f'nonce="{nonce}"' in tag or 'type="application/json"' in tag, tag


def test_members_and_supervisors_cannot_plan(client, login_as, people):
    for role in ("member", "supervisor", "unit"):
        login_as(people[role])
        assert client.get("/visits/plan").status_code == 403


@pytest.mark.parametrize(
    ("case", "field", "words"),
    [
        ("past", "planned_for", "已经过去"),
        ("no_stops", "stops", "至少需要一个走访点"),
        ("closed", "stops", "不能作为走访点"),
    ],
)
def test_planner_form_gives_clear_field_messages(
    client, login_as, people, make_issue, case, field, words
):
    good = make_issue()
    login_as(people["leader"])
    values = form_values([good])
    if case == "past":
        values["planned_for"] = (TODAY - timedelta(days=2)).isoformat()
    elif case == "no_stops":
        values["stops"] = "[]"
    else:
        closed = make_issue(104.03, 30.05, status="closed")
        values["stops"] = json.dumps([{"issue_id": good.id}, {"issue_id": closed.id}])
    response = client.post("/visits/plan", data=values)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert words in field_error(html, field)
    assert "走访未保存" in html
    assert db.session.scalar(select(Visit.id)) is None
    # what the leader picked is given back to the planner, not lost
    config = json.loads(re.search(r'id="fw-planner-config">(.*?)</script>', html, re.S).group(1))
    if case != "no_stops":
        assert good.id in [s["issue_id"] for s in config["selection"]]


def test_planner_form_saves_the_visit(client, login_as, people, make_issue):
    a, b = make_issue(104.02, 30.05), make_issue(104.04, 30.05)
    login_as(people["leader"])
    values = form_values(
        [b, a],
        start_lon="104.0",
        start_lat="30.05",
        start_label="政协办公室",
        members=[people["member"].id],
        units=["water"],
    )
    response = client.post("/visits/plan", data=values)
    assert response.status_code == 302
    visit = db.session.scalar(select(Visit))
    assert response.headers["Location"].endswith(f"/visits/{visit.id}")
    assert [s.issue_id for s in visit.stops] == [b.id, a.id]
    assert visit.participants == {
        "members": [people["member"].id],
        "units": ["water"],
        "residents": 5,
    }
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "全程约" in page and a.ref in page and "fw-stop-number" in page
    assert "记录走访结果" in page  # the leader may hold it


def test_edit_reorders_and_keeps_a_date_that_has_passed(
    client, login_as, people, make_issue, freeze
):
    from .conftest import NOW

    a, b = make_issue(104.02, 30.05), make_issue(104.04, 30.05)
    visit = services.create_visit(
        people["leader"], title="原计划", planned_for=TODAY, issue_ids=[a.id, b.id]
    )
    db.session.commit()
    freeze(NOW + timedelta(days=2))  # the date has passed; renaming must still work
    login_as(people["leader"])
    assert client.get(f"/visits/{visit.id}/edit").status_code == 200
    values = form_values([b, a], title="改为先看 B", planned_for=TODAY.isoformat())
    response = client.post(f"/visits/{visit.id}/edit", data=values)
    assert response.status_code == 302, field_error(response.get_data(as_text=True), "planned_for")
    visit = db.session.get(Visit, visit.id)
    assert visit.title == "改为先看 B" and [s.issue_id for s in visit.stops] == [b.id, a.id]


def test_hold_form_applies_actions_and_names_a_bad_one(client, login_as, people, make_issue):
    a, b = make_issue(104.02, 30.05), make_issue(104.04, 30.05, status="in_progress")
    visit = services.create_visit(
        people["leader"], title="现场协商", planned_for=TODAY, issue_ids=[a.id, b.id]
    )
    db.session.commit()
    login_as(people["leader"])
    due = (TODAY + timedelta(days=15)).isoformat()
    base = {
        "held_on": TODAY.isoformat(),
        "members": "3",
        "officials": "2",
        "residents": "10",
        "opinions": "限期整改。",
        f"action-{a.id}-move": "assign",
        f"action-{a.id}-unit": "water",
        f"action-{a.id}-due_on": due,
        f"action-{b.id}-move": "resolve",  # the answer class is missing: refused
        f"action-{b.id}-note": "已修复",
    }
    bad = client.post(f"/visits/{visit.id}/hold", data=base)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "所有措施均未生效" in html and "答复类别" in html
    assert db.session.get(Issue, a.id).status == "reported"  # nothing applied
    assert f'value="{due}"' in html  # what was typed is kept
    base[f"action-{b.id}-answer_class"] = "A"
    good = client.post(f"/visits/{visit.id}/hold", data=base)
    assert good.status_code == 302
    a, b = db.session.get(Issue, a.id), db.session.get(Issue, b.id)
    assert (a.status, a.unit.code, a.due_on.isoformat()) == ("in_progress", "water", due)
    assert (b.status, b.answer_class) == ("resolved", "A")
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "协商结果" in page and "限期整改" in page and "hold-form" not in page


def test_cancel_form_needs_a_reason(client, login_as, people, make_issue):
    visit = services.create_visit(
        people["leader"], title="现场协商", planned_for=TODAY, issue_ids=[make_issue().id]
    )
    db.session.commit()
    login_as(people["leader"])
    missing = client.post(f"/visits/{visit.id}/cancel", data={"reason": ""})
    assert missing.status_code == 422
    assert "请填写取消原因" in field_error(missing.get_data(as_text=True), "reason")
    done = client.post(f"/visits/{visit.id}/cancel", data={"reason": "暴雨预警"})
    assert done.status_code == 302
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "暴雨预警" in page and "已取消" in page


def test_print_itinerary_has_stops_addresses_and_history(client, login_as, people, make_issue):
    a = make_issue(104.02, 30.05, status="in_progress", title="排水沟堵塞")
    visit = services.create_visit(
        people["leader"],
        title="排水专题走访",
        planned_for=TODAY,
        issue_ids=[a.id],
        start={"lon": 104.0, "lat": 30.05},
        start_label="政协办公室",
    )
    db.session.commit()
    login_as(people["member"])
    assert client.get(f"/visits/{visit.id}/print").status_code == 404  # not invited
    login_as(people["supervisor"])
    html = client.get(f"/visits/{visit.id}/print").get_data(as_text=True)
    assert "走访行程单" in html and "排水沟堵塞" in html and "红星村" in html and "东风镇" in html
    assert "已立项" in html and "办理中" in html  # the problem's history
    css = Path(__file__).resolve().parents[2] / "static" / "css" / "visits.css"
    assert "@media print" in css.read_text(encoding="utf-8")
    assert 'data-action="print"' in html


def test_calendar_lists_the_month_by_status(client, login_as, people, make_issue):
    issue = make_issue()
    made = [
        services.create_visit(
            people["leader"],
            title=f"走访{d}",
            planned_for=TODAY + timedelta(days=d),
            issue_ids=[issue.id],
        )
        for d in (1, 5, 30)
    ]
    services.cancel(made[1], "改期", people["leader"])
    db.session.commit()
    login_as(people["leader"])
    html = client.get("/visits/?month=2026-03").get_data(as_text=True)
    assert "走访1" in html and "走访5" in html and "走访30" not in html
    assert 'id="visit-calendar"' in html and "2026 年 3 月" in html
    cancelled = client.get("/visits/?month=2026-03&status=cancelled").get_data(as_text=True)
    assert "走访5" in cancelled and "走访1" not in cancelled
    empty = client.get("/visits/?month=2025-01").get_data(as_text=True)
    assert "这个月还没有走访" in empty
    login_as(people["member2"])
    assert "这个月没有您参加的走访" in client.get("/visits/?month=2026-03").get_data(as_text=True)


def test_station_activity_queries(people, make_issue, small_county, freeze):
    station = create_station("红星村协商工作站", "rural", 104.02, 30.05)
    quiet = create_station("新华社区议事厅", "street_block", 104.07, 30.05)
    issue = make_issue()
    visit = services.create_visit(
        people["leader"],
        title="站点协商",
        planned_for=TODAY,
        issue_ids=[issue.id],
        station_id=station.id,
    )
    services.hold(visit, TODAY, {}, "", [], people["leader"])
    db.session.flush()
    assert [v.id for v in queries.visits_at_station(station.id)] == [visit.id]
    assert queries.visits_at_station(quiet.id) == []
    inactive = {row.id for row in queries.stations_without_activity(90, TODAY)}
    assert quiet.id in inactive and station.id not in inactive
    later = {
        row.id: row for row in queries.stations_without_activity(90, TODAY + timedelta(days=91))
    }
    assert station.id in later and later[station.id].last_held_on == TODAY
    assert not queries.station_inactive(station, 90, TODAY + timedelta(days=89))
    assert queries.station_inactive(station, 90, TODAY + timedelta(days=90))
    # coverage's "visited": held visit stops carry their village
    villages = dict(queries.held_visit_villages(TODAY - timedelta(days=90), TODAY))
    assert villages == {small_county.villages["V11"].id: TODAY}


def test_station_page_shows_visits_held_there_and_flags_a_quiet_station(
    client, login_as, people, make_issue, small_county
):
    station = create_station("红星村协商工作站", "rural", 104.02, 30.05)
    quiet = create_station("新华社区议事厅", "street_block", 104.07, 30.05)
    visit = services.create_visit(
        people["leader"],
        title="站点现场协商",
        planned_for=TODAY,
        issue_ids=[make_issue().id],
        station_id=station.id,
    )
    services.hold(visit, TODAY, {}, "", [], people["leader"])
    db.session.commit()
    login_as(people["supervisor"])
    busy = client.get(f"/stations/{station.id}").get_data(as_text=True)
    assert "站点现场协商" in busy and 'id="station-inactive"' not in busy
    idle = client.get(f"/stations/{quiet.id}").get_data(as_text=True)
    assert 'id="station-inactive"' in idle and "还没有在这个站点举行过走访" in idle
