"""`/api/v1/followups` and `/api/v1/places/history`: shapes, states, scope, replays, errors."""

from datetime import date

import pytest

from fieldwatch.extensions import db
from fieldwatch.followups.services import record_followup
from fieldwatch.models import Followup

ITEM_KEYS = {"id", "issue_id", "ref", "title", "lon", "lat", "township_code", "unit", "due_on",
             "days_overdue", "state", "done_at", "finding", "on_site", "inspector"}  # fmt: skip
HERE = (104.02, 30.05)


@pytest.fixture
def client(client):
    """The test client sending as a page of this site does (same-origin cookie writes)."""
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    return client


@pytest.fixture
def three(make_issue, people, lb, freeze):
    """One look-back overdue (T1), one due (T2), one done (T1)."""
    freeze(lb.at(1, 10))
    overdue = make_issue("resolved", category="safety")  # due 1/24
    freeze(lb.NOW)
    due = make_issue("resolved", lon=104.12, lat=30.05, unit="transport")  # due 4/9, T2
    done = make_issue("resolved")
    record_followup(lb.pending(done)[0], people["member"], "solved", *HERE, 5, None, "satisfied")
    db.session.commit()
    return {"overdue": overdue, "due": due, "done": done}


def test_list_items_have_the_designed_shape(client, login_as, people, three, small_county):
    login_as(people["supervisor"])
    body = client.get("/api/v1/followups").get_json()
    assert set(body) == {"items", "next"} and body["next"] is None
    assert len(body["items"]) == 3
    for item in body["items"]:
        assert ITEM_KEYS <= set(item)
    by_state = {i["state"]: i for i in body["items"]}
    overdue = by_state["overdue"]
    assert overdue["issue_id"] == three["overdue"].id and overdue["ref"] == three["overdue"].ref
    assert overdue["due_on"] == "2026-01-24" and overdue["days_overdue"] == 45
    assert (overdue["lon"], overdue["lat"]) == pytest.approx(HERE)
    assert overdue["township_code"] == small_county.townships["T1"].code
    assert (
        overdue["unit"] == "water" and overdue["done_at"] is None and overdue["inspector"] is None
    )
    done = by_state["done"]
    assert done["finding"] == "solved" and done["on_site"] is True and done["distance_m"] == 0
    assert done["inspector"] == {"id": people["member"].id, "name": people["member"].name}
    assert done["done_at"].startswith("2026-03-10T02:00:00")
    assert by_state["due"]["unit"] == "transport" and by_state["due"]["days_overdue"] == 0


@pytest.mark.parametrize("state", ["due", "overdue", "done"])
def test_filter_by_state(client, login_as, people, three, state):
    login_as(people["supervisor"])
    items = client.get(f"/api/v1/followups?state={state}").get_json()["items"]
    assert [i["issue_id"] for i in items] == [three[state].id]


def test_filter_by_township_and_unit_and_paging(client, login_as, people, three, small_county):
    login_as(people["supervisor"])
    t2 = small_county.townships["T2"].code
    items = client.get(f"/api/v1/followups?township={t2}").get_json()["items"]
    assert [i["issue_id"] for i in items] == [three["due"].id]
    items = client.get("/api/v1/followups?unit=water").get_json()["items"]
    assert {i["issue_id"] for i in items} == {three["overdue"].id, three["done"].id}
    page = client.get("/api/v1/followups?limit=2").get_json()
    assert len(page["items"]) == 2 and "offset=2" in page["next"]
    rest = client.get(page["next"]).get_json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    bad = client.get("/api/v1/followups?township=999999999999")
    assert bad.status_code == 422 and "township" in bad.get_json()["errors"]
    bad = client.get("/api/v1/followups?state=late")
    assert bad.status_code == 422 and "state" in bad.get_json()["errors"]


def test_scope_hides_what_a_user_may_not_see(client, login_as, people, three, small_county):
    login_as(people["member_t2"])
    items = client.get("/api/v1/followups").get_json()["items"]
    assert [i["issue_id"] for i in items] == [three["due"].id]
    login_as(people["transport"])  # a unit sees the look-backs of its own problems only
    items = client.get("/api/v1/followups").get_json()["items"]
    assert [i["issue_id"] for i in items] == [three["due"].id]
    other = db.session.query(Followup).filter_by(issue_id=three["overdue"].id).one()
    assert client.get(f"/api/v1/followups/{other.id}").status_code == 404


def test_record_answers_the_look_back_with_distance_and_on_site(
    client, login_as, people, three, lb
):
    login_as(people["member"])
    [check] = lb.pending(three["overdue"])
    here = lb.north(*HERE, 201)
    response = client.post(
        f"/api/v1/followups/{check.id}/record",
        json={"finding": "unsolved", "lon": here[0], "lat": here[1], "accuracy_m": 9,
              "note": "井盖仍然松动", "satisfaction": "dissatisfied",
              "client_id": "api-record-0001"},
    )  # fmt: skip
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == check.id and body["state"] == "done" and body["finding"] == "unsolved"
    assert body["on_site"] is False and body["distance_m"] == pytest.approx(201, abs=0.2)
    assert body["issue_status"] == "in_progress" and body["satisfaction"] == "dissatisfied"
    again = client.post(
        f"/api/v1/followups/{check.id}/record",
        json={"finding": "unsolved", "client_id": "api-record-0001"},
    )
    assert again.status_code == 200 and again.get_json()["id"] == check.id
    twice = client.post(f"/api/v1/followups/{check.id}/record", json={"finding": "solved"})
    assert twice.status_code == 409 and twice.get_json()["error"] == "conflict"
    login_as(people["member2"])
    stolen = client.post(
        f"/api/v1/followups/{check.id}/record",
        json={"finding": "unsolved", "client_id": "api-record-0001"},
    )
    assert stolen.status_code == 409


def test_record_refusals(client, login_as, people, three, lb):
    [check] = lb.pending(three["overdue"])
    login_as(people["unit"])
    response = client.post(f"/api/v1/followups/{check.id}/record", json={"finding": "solved"})
    assert response.status_code == 403  # a unit sees its look-backs but records none
    login_as(people["member"])
    response = client.post(f"/api/v1/followups/{check.id}/record", json={"finding": "fine"})
    assert response.status_code == 422 and "finding" in response.get_json()["errors"]
    response = client.post(
        f"/api/v1/followups/{check.id}/record", json={"finding": "solved", "lon": 500, "lat": 30}
    )
    assert response.status_code == 422 and "lon" in response.get_json()["errors"]
    assert (
        client.post("/api/v1/followups/999999/record", json={"finding": "solved"}).status_code
        == 404
    )
    db.session.refresh(check)
    assert check.done_at is None and three["overdue"].status == "resolved"


def test_record_is_all_or_nothing_with_the_issue_move(
    client, login_as, people, three, lb, monkeypatch
):
    [check] = lb.pending(three["overdue"])
    login_as(people["member"])

    def broken(*args, **kwargs):
        raise RuntimeError("the move failed half-way")

    monkeypatch.setattr("fieldwatch.followups.services.transition", broken)
    response = client.post(f"/api/v1/followups/{check.id}/record", json={"finding": "solved"})
    assert response.status_code == 500
    db.session.refresh(check)
    db.session.refresh(three["overdue"])
    assert check.done_at is None and check.finding is None
    assert three["overdue"].status == "resolved"


def test_schedule_and_assign_through_the_api(client, login_as, people, three):
    login_as(people["supervisor"])
    issue = three["done"]
    response = client.post(
        "/api/v1/followups",
        json={"issue_id": issue.ref, "due_on": "2026-03-20", "assignee": people["member2"].login},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["issue_id"] == issue.id and body["kind"] == "spot_check" and body["state"] == "due"
    assert body["assignee"]["id"] == people["member2"].id
    by_id = client.post("/api/v1/followups", json={"issue_id": issue.id, "due_on": "2026-03-21"})
    assert by_id.status_code == 201
    moved = client.patch(f"/api/v1/followups/{body['id']}", json={"assignee": None,
                                                                 "due_on": "2026-03-25"})  # fmt: skip
    assert moved.status_code == 200
    assert moved.get_json()["assignee"] is None and moved.get_json()["due_on"] == "2026-03-25"
    past = client.post("/api/v1/followups", json={"issue_id": issue.id, "due_on": "2026-01-01"})
    assert past.status_code == 422 and "due_on" in past.get_json()["errors"]
    missing = client.post("/api/v1/followups", json={"due_on": "2026-03-21"})
    assert missing.status_code == 422 and "issue_id" in missing.get_json()["errors"]
    unknown = client.post("/api/v1/followups", json={"issue_id": "FW-1999-000001",
                                                     "due_on": "2026-03-21"})  # fmt: skip
    assert unknown.status_code == 404
    login_as(people["member"])
    refused = client.post("/api/v1/followups", json={"issue_id": issue.id, "due_on": "2026-03-21"})
    assert refused.status_code == 403


def test_bearer_tokens_work_and_anonymous_is_401(client, people, three, token_for, lb):
    assert client.get("/api/v1/followups").status_code == 401
    [check] = lb.pending(three["overdue"])
    headers = {**token_for(people["member"]), "Sec-Fetch-Site": "cross-site"}
    response = client.post(
        f"/api/v1/followups/{check.id}/record", json={"finding": "solved"}, headers=headers
    )
    assert response.status_code == 200 and response.get_json()["issue_status"] == "closed"
    response = client.get("/api/v1/followups?state=done", headers=token_for(people["leader"]))
    assert response.status_code == 200 and len(response.get_json()["items"]) == 2


def test_a_cookie_write_from_another_site_is_refused(client, login_as, people, three, lb):
    [check] = lb.pending(three["overdue"])
    login_as(people["member"])
    response = client.post(
        f"/api/v1/followups/{check.id}/record",
        json={"finding": "solved"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    db.session.refresh(check)
    assert check.done_at is None


def test_photos_go_to_a_recorded_look_back_by_its_inspector(client, login_as, people, three, lb):
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 20)).save(buffer, "JPEG")
    jpeg = buffer.getvalue()
    [pending_check] = lb.pending(three["overdue"])
    login_as(people["member"])

    def upload(followup_id, client_id=None):
        data = {"photo": (BytesIO(jpeg), "site.jpg", "image/jpeg")}
        if client_id:
            data["client_id"] = client_id
        return client.post(f"/api/v1/followups/{followup_id}/photos", data=data,
                           content_type="multipart/form-data")  # fmt: skip

    assert upload(pending_check.id).status_code == 409  # record it first
    done = db.session.query(Followup).filter_by(issue_id=three["done"].id).one()
    first = upload(done.id, "photo-client-01")
    if first.status_code == 422 and "未安装" in first.get_data(as_text=True):
        pytest.fail("the photos area is not installed")
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["followup_id"] == done.id and body["url"] and body["thumb_url"]
    again = upload(done.id, "photo-client-01")
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    login_as(people["member2"])
    assert upload(done.id).status_code == 409  # not their look-back


def test_openapi_documents_the_look_back_and_place_operations(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/followups"])
    assert {"get", "patch"} <= set(paths["/api/v1/followups/{followup_id}"])
    assert "post" in paths["/api/v1/followups/{followup_id}/record"]
    assert "post" in paths["/api/v1/followups/{followup_id}/photos"]
    assert "get" in paths["/api/v1/places/history"]


def test_place_history_lists_issues_visits_and_look_backs_oldest_first(
    client, login_as, people, make_issue, lb, freeze
):
    freeze(lb.at(1, 5))
    first = make_issue("resolved", title="路口井盖松动")
    freeze(lb.at(2, 10))
    record_followup(lb.pending(first)[0], people["member"], "unsolved", *HERE)
    freeze(lb.at(2, 20))
    second = make_issue("resolved", lon=104.0203, lat=30.0501, title="路口积水")
    make_issue("reported", lon=104.03, lat=30.05, title="远处的问题")  # ~960 m away
    freeze(lb.at(3, 1))
    record_followup(lb.pending(second)[0], people["member"], "solved", *HERE)
    freeze(lb.NOW)
    db.session.commit()
    login_as(people["leader"])
    body = client.get(f"/api/v1/places/history?lon={HERE[0]}&lat={HERE[1]}&radius=100").get_json()
    assert set(body) == {"items", "next"}
    seen = [(i["type"], i["id"]) for i in body["items"]]
    f1 = db.session.query(Followup).filter_by(issue_id=first.id).order_by(Followup.id).first()
    f2 = db.session.query(Followup).filter_by(issue_id=second.id).one()
    assert seen == [("issue", first.id), ("followup", f1.id), ("issue", second.id),
                    ("followup", f2.id)]  # fmt: skip
    for item in body["items"]:
        assert {"type", "id", "at", "summary"} <= set(item)
    assert body["items"][0]["at"].startswith("2026-01-05")
    assert first.ref in body["items"][0]["summary"]
    assert "未解决" in body["items"][1]["summary"]
    assert body["items"][2]["distance_m"] == pytest.approx(34, abs=3)
    wide = client.get(f"/api/v1/places/history?lon={HERE[0]}&lat={HERE[1]}&radius=1000")
    assert len(wide.get_json()["items"]) == 5
    bad = client.get("/api/v1/places/history?lon=104&lat=95")
    assert bad.status_code == 422 and "lat" in bad.get_json()["errors"]
    assert client.get("/api/v1/places/history?lon=104&lat=30&radius=5000").status_code == 422
    login_as(people["member_t2"])  # another township sees none of it
    assert client.get(f"/api/v1/places/history?lon={HERE[0]}&lat={HERE[1]}").get_json() == {
        "items": [], "next": None,
    }  # fmt: skip


def test_dates_in_items_are_local_days(client, login_as, people, three):
    login_as(people["supervisor"])
    items = client.get("/api/v1/followups?state=due").get_json()["items"]
    assert date.fromisoformat(items[0]["due_on"]) == date(2026, 4, 9)
