"""Sign-in, sessions, API tokens, throttling, CSRF and the language choice."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fieldwatch.auth import services
from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db
from fieldwatch.models import AuditLog, User

PASSWORD = "test-pass-123"


def test_login_page_is_chinese_for_a_chinese_browser(client):
    response = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert response.status_code == 200
    assert "登录" in response.text
    assert 'lang="zh-CN"' in response.text


def test_login_page_is_english_for_an_english_browser(client):
    response = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert 'lang="en"' in response.text
    assert "Sign in" in response.text


def test_language_switch_is_remembered_for_the_user(client, login_as):
    user = login_as("member")
    client.post("/lang/en", data={"next": "/"})
    assert db.session.get(User, user.id).locale == "en"
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert 'lang="en"' in page.text


def test_sign_in_with_password_then_home(client, make_user):
    make_user("leader", login="lead1")
    response = client.post("/login", data={"login": "lead1", "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "lead1" in home.text  # the navbar names who is signed in
    assert 'id="fw-map-config"' in home.text  # home is the main map
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "login")) is not None


def test_wrong_password_is_refused_with_a_field_message(client, make_user):
    make_user("leader", login="lead2")
    response = client.post("/login", data={"login": "lead2", "password": "nope-nope"})
    assert response.status_code == 401
    assert "登录名或密码不正确" in response.text
    assert client.get("/").status_code == 302


def test_login_locks_after_five_failures_for_everyone(client, make_user, freeze):
    make_user("leader", login="lead3")
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    freeze(start)
    for _ in range(5):
        client.post("/login", data={"login": "lead3", "password": "wrong-wrong"})
    locked = client.post("/login", data={"login": "lead3", "password": PASSWORD})
    assert locked.status_code == 429
    freeze(start + timedelta(minutes=16))
    assert client.post("/login", data={"login": "lead3", "password": PASSWORD}).status_code == 302


def test_passwords_are_hashed_with_scrypt(make_user):
    user = make_user("member")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_pages_need_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_bearer_token_signs_in_an_api_request_and_is_stored_hashed(app, client, make_user):
    user = make_user("supervisor")
    token = services.issue_token(user)
    db.session.commit()
    assert token not in {t.token_hash for t in user.tokens}
    assert services.user_for_token(token).id == user.id
    assert services.user_for_token(token + "x") is None


def test_logout_everywhere_ends_sessions_and_revokes_tokens(client, login_as):
    user = login_as("member")
    token = services.issue_token(user)
    db.session.commit()
    assert client.get("/").status_code == 200
    client.post("/logout/everywhere")
    assert services.user_for_token(token) is None
    assert client.get("/").status_code == 302


def test_disabled_user_cannot_use_the_session(client, login_as):
    user = login_as("member")
    user.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", ["wizard", ""])
def test_unknown_role_is_refused(app, role):
    with pytest.raises(ValidationError) as info:
        services.create_user("x1", role, password=PASSWORD)
    assert "role" in info.value.errors


def test_csrf_is_enforced_on_forms(database_url, tmp_path):
    from fieldwatch import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "k",
            "UPLOAD_FOLDER": str(tmp_path),
            "TESTING": True,
        }
    )
    client = app.test_client()
    response = client.post("/login", data={"login": "nobody", "password": "whatever1"})
    assert response.status_code == 400
    assert "CSRF" in response.text or "请求有误" in response.text
