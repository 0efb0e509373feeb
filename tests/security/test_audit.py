"""The audit log: sign-ins (good, bad and locked out), role changes and every status change of
problems and look-backs leave a row, and only the office (admin) reads them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fieldwatch.extensions import db
from fieldwatch.models import AuditLog

PASSWORD = "test-pass-123"  # tests/conftest.py's


def rows(action: str, **where) -> list[AuditLog]:
    query = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
    for key, value in where.items():
        query = query.where(getattr(AuditLog, key) == value)
    return list(db.session.scalars(query))


@pytest.fixture
def people(make_user, small_county):
    return {
        "admin": make_user("admin", login="office"),
        "supervisor": make_user("supervisor", login="duban"),
        "member": make_user("member", login="weiyuan"),
        "unit": make_user("unit", login="shuiwu", unit="water"),
    }


def test_sign_ins_good_bad_and_locked_out_are_logged(client, people):
    client.post("/login", data={"login": "weiyuan", "password": "wrong-password"})
    [failed] = rows("login_failed")
    assert failed.actor_id == people["member"].id and failed.data["login"] == "weiyuan"
    assert failed.ip == "127.0.0.1"
    client.post("/login", data={"login": "nobody", "password": "whatever"})
    assert rows("login_failed")[-1].actor_id is None  # an unknown login is kept too
    assert rows("login_failed")[-1].data["login"] == "nobody"

    response = client.post("/login", data={"login": "weiyuan", "password": PASSWORD})
    assert response.status_code == 302
    [good] = rows("login")
    assert good.actor_id == people["member"].id and good.ip == "127.0.0.1"


def test_attempts_during_a_lockout_are_logged(client, people):
    for _ in range(5):
        client.post("/login", data={"login": "ghost", "password": "guess"})
    response = client.post("/login", data={"login": "ghost", "password": "guess"})
    assert response.status_code == 429
    [locked] = rows("login_locked")
    assert locked.data["login"] == "ghost" and locked.ip == "127.0.0.1"


def test_a_role_change_is_logged_with_who_and_what(client, login_as, people):
    login_as(people["admin"])
    member = people["member"]
    response = client.post(
        f"/admin/users/{member.id}",
        data={"login": member.login, "name": "改任督办", "role": "supervisor"},
    )
    assert response.status_code == 302
    [change] = rows("user.role_change", object_id=str(member.id))
    assert change.actor_id == people["admin"].id
    assert change.data == {"from": "member", "to": "supervisor"}


def test_every_status_change_of_a_problem_and_its_look_back_is_logged(
    client, login_as, token_for, people
):
    member, admin, unit, supervisor = (people[k] for k in ("member", "admin", "unit", "supervisor"))
    headers = token_for(member)
    body = {"title": "井盖松动", "category": "roads", "lon": 104.02, "lat": 30.05}
    issue_id = client.post("/api/v1/issues", json=body, headers=headers).get_json()["id"]

    def move(user, **values):
        response = client.post(
            f"/api/v1/issues/{issue_id}/transitions", json=values, headers=token_for(user)
        )
        assert response.status_code == 200, response.get_json()

    move(admin, to="accepted")
    move(admin, to="in_progress", unit="water")
    move(unit, to="resolved", answer_class="A", note="已更换井盖")
    look_back = client.get("/api/v1/followups?state=due", headers=token_for(supervisor))
    [item] = [i for i in look_back.get_json()["items"] if i["issue_id"] == issue_id]
    recorded = client.post(
        f"/api/v1/followups/{item['id']}/record",
        json={"finding": "solved", "lon": 104.02, "lat": 30.05, "note": "已修好"},
        headers=token_for(supervisor),
    )
    assert recorded.status_code == 200, recorded.get_json()

    moves = rows("issue.status", object_id=str(issue_id))
    assert [(m.data["from"], m.data["to"], m.actor_id) for m in moves] == [
        (None, "reported", member.id),
        ("reported", "accepted", admin.id),
        ("accepted", "in_progress", admin.id),
        ("in_progress", "resolved", unit.id),
        ("resolved", "closed", supervisor.id),  # closed by the look-back's finding
    ]
    [record] = rows("followup.record", object_id=str(item["id"]))
    assert record.actor_id == supervisor.id and record.data["finding"] == "solved"
    # the look-back itself: scheduled by the answer (its author), then done
    [scheduled] = rows("followup.schedule", object_id=str(item["id"]))
    assert scheduled.actor_id == unit.id and scheduled.data["auto"] is True


def test_a_look_back_dropped_by_a_move_is_logged(client, token_for, people):
    """Marking an answered problem a duplicate drops its pending look-back, with a trace."""
    admin, unit = people["admin"], people["unit"]
    headers = token_for(admin)
    body = {"title": "路灯不亮", "category": "roads", "lon": 104.02, "lat": 30.05}
    first = client.post("/api/v1/issues", json=body, headers=headers).get_json()["id"]
    second = client.post("/api/v1/issues", json=body, headers=headers).get_json()["id"]
    for values, who in (
        ({"to": "accepted"}, admin),
        ({"to": "in_progress", "unit": "water"}, admin),
        ({"to": "resolved", "answer_class": "A", "note": "已修"}, unit),
        ({"to": "duplicate", "duplicate_of": first}, admin),
    ):
        response = client.post(
            f"/api/v1/issues/{second}/transitions", json=values, headers=token_for(who)
        )
        assert response.status_code == 200, response.get_json()
    [scheduled] = rows("followup.schedule")
    [dropped] = rows("followup.drop", object_id=scheduled.object_id)
    assert dropped.actor_id == admin.id
    assert dropped.data == {"issue_id": second, "kind": "scheduled", "because": "duplicate"}


def test_the_audit_page_shows_the_rows_to_the_office_only(client, login_as, people):
    client.post("/login", data={"login": "weiyuan", "password": "wrong-password"})
    for role in ("supervisor", "member", "unit"):
        login_as(people[role])
        assert client.get("/admin/audit").status_code == 403
        assert client.get("/admin/audit?format=csv").status_code == 403
    login_as(people["admin"])
    page = client.get("/admin/audit?action=login_failed")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<code>login_failed</code>" in html and "weiyuan" in html
    csv = client.get("/admin/audit?format=csv").get_data(as_text=True)
    assert "login_failed" in csv
