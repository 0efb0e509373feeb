"""The look-back pages: board, record (the no-JavaScript path), schedule, assign, export, to-dos."""

import csv
import io

import pytest
from sqlalchemy import select

from fieldwatch.extensions import db
from fieldwatch.followups.services import record_followup
from fieldwatch.models import Followup

HERE = (104.02, 30.05)


@pytest.fixture
def story(make_issue, people, lb, freeze):
    """An overdue look-back, one due this week, one done off site, a class C answer."""
    freeze(lb.at(1, 10))
    overdue = make_issue("resolved", category="safety", title="学校门口护栏损坏")  # due 1/24
    freeze(lb.at(2, 10))
    week = make_issue("resolved", category="sanitation", title="河边垃圾堆放")  # due 2/24
    freeze(lb.at(2, 20))
    done = make_issue("resolved", title="人行道塌陷")
    make_issue("in_progress", due_on="2026-03-05", title="路灯不亮")  # the unit is late
    make_issue("in_progress", due_on="2026-03-25", title="消防通道被占")  # not near yet
    freeze(lb.at(3, 2))
    record_followup(lb.pending(done)[0], people["member"], "solved", None, None, None, "电话回访")
    class_c = make_issue("resolved", "C", title="修建人行天桥")
    reopened = make_issue("resolved", title="小区地下室漏水")
    record_followup(lb.pending(reopened)[0], people["member"], "unsolved", *HERE)
    freeze(lb.NOW)
    # the one due this week: move its date to Thursday 12 March
    check = lb.pending(week)[0]
    check.due_on = lb.TODAY.replace(day=12)
    db.session.commit()
    return {"overdue": overdue, "week": week, "done": done, "class_c": class_c,
            "reopened": reopened}  # fmt: skip


def test_the_supervisors_board(client, login_as, people, story):
    login_as(people["supervisor"])
    response = client.get("/followups/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in ("学校门口护栏损坏", "逾期 45 天", "河边垃圾堆放", "人行道塌陷", "非现场",
                 "修建人行天桥", "季考季评", "东风镇", "逾期与返工的问题", "2026Q1"):  # fmt: skip
        assert text in html, text
    assert 'data-count="overdue"' in html and 'id="ranking"' in html and 'id="breakdown"' in html
    assert "https://" not in html.split("<body")[0]  # no CDN in the head: assets are local
    by_unit = client.get("/followups/?by=unit").get_data(as_text=True)
    assert "区水务局" in by_unit


def test_members_see_the_lists_but_not_the_counters(client, login_as, people, story):
    login_as(people["member"])
    html = client.get("/followups/").get_data(as_text=True)
    assert "学校门口护栏损坏" in html and 'id="ranking"' not in html
    assert client.get("/followups/?format=csv&table=ranking").status_code == 403


def test_csv_exports_have_a_bom_and_the_rows(client, login_as, people, story):
    login_as(people["supervisor"])
    response = client.get("/followups/?format=csv&table=lookbacks&quarter=2026Q1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "问题", "标题"]
    titles = {row[2] for row in rows[1:]}
    assert {"学校门口护栏损坏", "河边垃圾堆放", "人行道塌陷"} <= titles
    ranking = client.get("/followups/?format=csv&table=ranking&quarter=2026Q1")
    rows = list(csv.reader(io.StringIO(ranking.data.decode("utf-8-sig"))))
    assert rows[0][0] == "名次" and {r[2] for r in rows[1:]} == {"东风镇", "西岭乡"}
    breakdown = client.get("/followups/?format=csv&table=breakdown&by=category&quarter=2026Q1")
    rows = list(csv.reader(io.StringIO(breakdown.data.decode("utf-8-sig"))))
    assert rows[-1][1] == "合计"


def test_recording_without_javascript(client, login_as, people, story, lb):
    [check] = lb.pending(story["overdue"])
    login_as(people["member"])
    page = client.get(f"/followups/{check.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="record-form"' in html and "已解决" in html and "基本满意" in html
    here = lb.north(*HERE, 30)
    response = client.post(
        f"/followups/{check.id}",
        data={"finding": "solved", "satisfaction": "satisfied", "note": "护栏已更换",
              "lon": str(here[0]), "lat": str(here[1]), "accuracy_m": "8"},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.refresh(check)
    assert (
        check.finding == "solved" and check.on_site is True and story["overdue"].status == "closed"
    )
    shown = client.get(f"/followups/{check.id}").get_data(as_text=True)
    assert (
        'id="lookback-result"' in shown
        and "护栏已更换" in shown
        and 'id="record-form"' not in shown
    )


def test_a_bad_form_shows_field_errors_and_records_nothing(client, login_as, people, story, lb):
    [check] = lb.pending(story["overdue"])
    login_as(people["member"])
    response = client.post(f"/followups/{check.id}", data={"note": "忘了选"})
    assert response.status_code == 422
    assert 'data-field="finding"' in response.get_data(as_text=True)
    response = client.post(f"/followups/{check.id}", data={"finding": "solved", "lon": "999",
                                                           "lat": "30"})  # fmt: skip
    assert response.status_code == 422 and 'data-field="lon"' in response.get_data(as_text=True)
    db.session.refresh(check)
    assert check.done_at is None and story["overdue"].status == "resolved"


def test_the_page_says_why_one_cannot_record(client, login_as, people, story, lb):
    [rework] = lb.pending(story["reopened"])
    login_as(people["member"])
    html = client.get(f"/followups/{rework.id}").get_data(as_text=True)
    assert 'id="not-awaiting"' in html and 'id="record-form"' not in html
    [check] = lb.pending(story["overdue"])
    login_as(people["unit"])
    html = client.get(f"/followups/{check.id}").get_data(as_text=True)
    assert 'id="cannot-record"' in html and "不能回头看自己的工作" in html
    assert client.post(f"/followups/{check.id}", data={"finding": "solved"}).status_code == 403
    login_as(people["member_t2"])  # another township's: not found, as in the API
    assert client.get(f"/followups/{check.id}").status_code == 404


def test_schedule_and_assign_forms(client, login_as, people, story, lb):
    login_as(people["supervisor"])
    form = client.get(f"/followups/new?issue={story['done'].ref}")
    assert form.status_code == 200 and story["done"].ref in form.get_data(as_text=True)
    response = client.post(
        "/followups/new",
        data={"issue": story["done"].ref, "kind": "spot_check", "due_on": "2026-03-15",
              "assignee": str(people["member2"].id)},
    )  # fmt: skip
    assert response.status_code == 302
    spot = db.session.scalars(
        select(Followup).where(Followup.issue_id == story["done"].id, Followup.done_at.is_(None))
    ).one()
    assert spot.kind == "spot_check" and spot.assignee_id == people["member2"].id
    bad = client.post("/followups/new", data={"issue": "FW-1999-000009", "due_on": "2026-03-15",
                                              "kind": "extra"})  # fmt: skip
    assert bad.status_code == 422 and "没有这个问题编号" in bad.get_data(as_text=True)
    past = client.post("/followups/new", data={"issue": story["done"].ref, "due_on": "2026-01-01",
                                               "kind": "extra"})  # fmt: skip
    assert past.status_code == 422 and "不能早于今天" in past.get_data(as_text=True)
    moved = client.post(
        f"/followups/{spot.id}/assign",
        data={"assign-assignee": str(people["leader"].id), "assign-due_on": "2026-03-20"},
    )
    assert moved.status_code == 302
    db.session.refresh(spot)
    assert spot.assignee_id == people["leader"].id and str(spot.due_on) == "2026-03-20"
    login_as(people["member"])
    assert client.get("/followups/new").status_code == 403


@pytest.mark.parametrize(
    ("role", "sections"),
    [
        ("member", ["todo-lookbacks"]),
        ("supervisor", ["todo-lookbacks", "todo-overdue", "todo-class-c"]),
        ("unit", ["todo-unit"]),
        ("leader", ["todo-lookbacks", "todo-reopened"]),
        ("admin", ["todo-overdue", "todo-class-c"]),
    ],
)
def test_to_dos_per_role(client, login_as, people, story, role, sections):
    login_as(people[role])
    html = client.get("/todos/").get_data(as_text=True)
    for section in sections:
        assert f'id="{section}"' in html, section
    assert 'id="todo-queue"' in html  # the device's queue, filled in by the script


def test_to_do_contents(client, login_as, people, story):
    login_as(people["member"])
    html = client.get("/todos/").get_data(as_text=True)
    assert "学校门口护栏损坏" in html and "河边垃圾堆放" in html
    assert "小区地下室漏水" not in html.split('id="todo-lookbacks"')[1].split("</section>")[0]
    login_as(people["leader"])
    html = client.get("/todos/").get_data(as_text=True)
    assert "小区地下室漏水" in html.split('id="todo-reopened"')[1]
    login_as(people["unit"])
    html = client.get("/todos/").get_data(as_text=True)
    assert "路灯不亮" in html and "逾期 5 天" in html and "消防通道被占" not in html


def test_the_place_page(client, login_as, people, story):
    login_as(people["leader"])
    page = client.get(f"/places?lon={HERE[0]}&lat={HERE[1]}&radius=100")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="timeline"' in html and "人行道塌陷" in html and "回头看" in html
    assert "个问题" in html
    by_ref = client.get(f"/places?issue={story['done'].ref}")
    assert by_ref.status_code == 302 and "/places?lon=104.020000&lat=30.050000" in by_ref.location
    assert client.get("/places").status_code == 200
    assert client.get("/places?lon=300&lat=30").status_code == 422


def test_a_problems_page_links_its_look_backs_and_its_place(client, login_as, people, story, lb):
    login_as(people["supervisor"])
    issue = story["reopened"]
    html = client.get(f"/issues/{issue.ref}").get_data(as_text=True)
    assert 'id="place-history"' in html and "/places?lon=104.020000&amp;lat=30.050000" in html
    section = html.split('id="lookbacks"')[1].split("</section>")[0]
    done, rework = sorted(
        db.session.scalars(select(Followup).where(Followup.issue_id == issue.id)),
        key=lambda f: f.id,
    )
    assert f"/followups/{done.id}" in section and f"/followups/{rework.id}" in section
    assert "未解决" in section
    # the timeline's look-back move links to the look-back
    assert f'href="/followups/{done.id}"' in html.split('id="timeline"')[1]
    closed = story["done"]
    html = client.get(f"/issues/{closed.ref}").get_data(as_text=True)
    assert f"/followups/new?issue={closed.ref}" in html  # a spot check on a closed problem


def test_look_backs_waiting_for_rework_are_not_on_the_overdue_list(
    client, login_as, people, story, lb, freeze
):
    freeze(lb.at(4, 10))  # the reworked problem's next look-back fell due on 1 April
    login_as(people["supervisor"])
    html = client.get("/followups/").get_data(as_text=True)
    overdue = html.split('id="overdue-section"')[1].split("</section>")[0]
    assert "学校门口护栏损坏" in overdue and "小区地下室漏水" not in overdue
    assert 'id="waiting-rework"' in html and "另有 1 次回头看在等承办单位整改" in html
    html = client.get("/todos/").get_data(as_text=True)
    assert "小区地下室漏水" not in html.split('id="todo-overdue"')[1].split("</section>")[0]
