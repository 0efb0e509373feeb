"""Admin user pages: list and search, create (password shown once), role and scope, reset, disable."""

from sqlalchemy import select

from fieldwatch.extensions import db
from fieldwatch.models import ApiToken, AuditLog, User


def _audit(action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action)).all()


def test_only_admins_reach_the_admin_pages(client, login_as):
    for role in ("leader", "member", "supervisor", "unit"):
        login_as(role)
        assert client.get("/admin/users").status_code == 403
        assert client.get("/admin/").status_code == 403
    client.post("/logout")
    assert client.get("/admin/users").status_code == 302  # to the sign-in page
    login_as("admin")
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "用户" in page.text and "审计日志" in page.text


def test_list_search_and_filter(client, login_as, make_user, small_county):
    login_as("admin")
    make_user("member", login="zhangwei", name="张伟", township="512099001000", phone="13800000001")
    make_user("member", login="lina", name="李娜", township="512099002000")
    off = make_user("leader", login="wangqiang", name="王强")
    off.active = False
    db.session.commit()

    page = client.get("/admin/users?q=张伟")
    assert "zhangwei" in page.text and "lina" not in page.text
    assert "zhangwei" in client.get("/admin/users?q=13800000001").text
    page = client.get("/admin/users?township=512099002000")
    assert "lina" in page.text and "zhangwei" not in page.text
    page = client.get("/admin/users?state=disabled")
    assert "wangqiang" in page.text and "lina" not in page.text
    page = client.get("/admin/users?role=leader&q=nobody-like-this")
    assert "没有符合条件的用户" in page.text


def test_create_with_generated_password_shown_once(client, login_as, small_county):
    admin = login_as("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "login": "chenjing",
            "name": "陈静",
            "role": "member",
            "township": "512099001000",
            "unit": "",
            "sector": "农业界",
            "phone": "13900000000",
            "email": "chen@example.org",
            "password": "",
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    user = db.session.scalar(select(User).where(User.login == "chenjing"))
    assert user.township.code == "512099001000" and user.sector == "农业界"
    shown = response.text.split('id="new-password" class="user-select-all">')[1].split("<")[0]
    from werkzeug.security import check_password_hash

    assert check_password_hash(user.password_hash, shown)
    # never again: the edit page does not show it
    assert shown not in client.get(f"/admin/users/{user.id}").text
    created = _audit("user.create")[-1]
    assert created.actor_id == admin.id and created.object_id == str(user.id)
    # the new user signs in with it
    client.post("/logout")
    login = client.post("/login", data={"login": "chenjing", "password": shown})
    assert login.status_code == 302


def test_create_field_errors(client, login_as, make_user):
    login_as("admin")
    make_user("member", login="taken")
    response = client.post(
        "/admin/users/new",
        data={"login": "taken", "name": "x", "role": "unit", "unit": "", "password": "short"},
    )
    assert response.status_code == 422
    text = response.text
    assert 'data-field="password"' in text  # at least 8
    response = client.post(
        "/admin/users/new",
        data={"login": "taken", "name": "x", "role": "unit", "unit": "", "password": "long-enough"},
    )
    assert response.status_code == 422
    assert 'data-field="login"' in response.text and "登录名已存在" in response.text
    assert 'data-field="unit"' in response.text
    assert db.session.scalar(select(User).where(User.name == "x")) is None


def test_role_change_is_audited_with_from_and_to(client, login_as, make_user, small_county):
    admin = login_as("admin")
    user = make_user("member", login="m1")
    response = client.post(
        f"/admin/users/{user.id}",
        data={
            "login": "ignored",
            "name": "新名字",
            "role": "unit",
            "unit": "water",
            "township": "512099002000",
            "email": "",
            "phone": "",
            "sector": "",
        },
    )
    assert response.status_code == 302
    user = db.session.get(User, user.id)
    assert (user.login, user.name, user.role, user.unit.code) == ("m1", "新名字", "unit", "water")
    assert user.township.code == "512099002000"
    change = _audit("user.role_change")[-1]
    assert change.data == {"from": "member", "to": "unit"} and change.actor_id == admin.id
    assert set(_audit("user.update")[-1].data["changed"]) >= {"name", "unit_id", "township_id"}


def test_the_last_admin_stays_admin_and_active(client, login_as):
    admin = login_as("admin")
    others = db.session.scalars(select(User).where(User.role == "admin", User.id != admin.id))
    for other in others:
        other.active = False
    db.session.commit()
    response = client.post(
        f"/admin/users/{admin.id}", data={"name": admin.name, "role": "leader", "login": "x"}
    )
    assert response.status_code == 422 and "唯一的管理员" in response.text
    client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    assert db.session.get(User, admin.id).active is True


def test_reset_password_generated_or_typed_ends_sessions(client, login_as, make_user):
    login_as("admin")
    user = make_user("leader", login="l1")
    version = user.session_version
    response = client.post(f"/admin/users/{user.id}/password", data={"password": ""})
    assert response.status_code == 200 and 'id="new-password"' in response.text
    user = db.session.get(User, user.id)
    assert user.session_version == version + 1
    response = client.post(f"/admin/users/{user.id}/password", data={"password": "typed-pass-99"})
    assert response.status_code == 302
    from werkzeug.security import check_password_hash

    assert check_password_hash(db.session.get(User, user.id).password_hash, "typed-pass-99")
    assert len(_audit("user.password")) >= 2


def test_disable_ends_sessions_and_tokens_then_enable(client, app, login_as, make_user, token_for):
    admin = make_user("admin", login="boss")
    victim = make_user("member", login="m2")
    headers = token_for(victim)
    # the victim is signed in on another browser
    other = app.test_client()
    with other.session_transaction() as session:
        session["_user_id"] = victim.get_id()
    assert other.get("/").status_code == 200
    login_as(admin)
    response = client.post(f"/admin/users/{victim.id}/active", data={"active": "0"})
    assert response.status_code == 302
    victim = db.session.get(User, victim.id)
    assert victim.active is False
    assert other.get("/").status_code == 302  # signed out
    assert all(t.revoked_at is not None for t in db.session.scalars(select(ApiToken)))
    from fieldwatch.auth.services import user_for_token

    assert user_for_token(headers["Authorization"][7:]) is None
    assert _audit("user.disable")[-1].object_id == str(victim.id)
    client.post(f"/admin/users/{victim.id}/active", data={"active": "1"})
    assert db.session.get(User, victim.id).active is True
    assert _audit("user.enable")


def test_cannot_disable_yourself(client, login_as, make_user):
    make_user("admin")
    me = login_as("admin")
    client.post(f"/admin/users/{me.id}/active", data={"active": "0"})
    assert db.session.get(User, me.id).active is True


def test_users_export_csv_and_xlsx(client, login_as, make_user):
    import io

    from openpyxl import load_workbook

    login_as("admin")
    make_user("member", login="exp1", name='=HYPERLINK("x")')
    response = client.get("/admin/users?format=csv&q=exp1")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "filename*=UTF-8''%E7%94%A8%E6%88%B7" in response.headers["Content-Disposition"]
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff登录名,姓名,角色")
    assert 'exp1,"\'=HYPERLINK(""x"")",委员' in body
    response = client.get("/admin/users?format=xlsx&q=exp1")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["登录名", "姓名", "角色"]
    assert rows[1][:3] == ["exp1", '=HYPERLINK("x")', "委员"]
    assert sheet["B2"].data_type == "s"  # text, never a formula
