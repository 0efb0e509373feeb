"""JSON errors in the DESIGN.md shape, error pages, security headers, and the policy failing closed."""

from fieldwatch import policy


def test_api_404_is_json_in_our_shape(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    body = response.get_json()
    assert set(body) == {"error", "message", "errors"}
    assert body["error"] == "not_found"


def test_browser_404_is_a_page(client):
    response = client.get("/nothing-here", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert "找不到页面" in response.text


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


def test_security_headers_and_nonce(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    make_user("member", login="cookie1")
    response = client.post("/login", data={"login": "cookie1", "password": "test-pass-123"})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


class Anonymous:
    is_authenticated = False


def test_policy_fails_closed(make_user):
    admin = make_user("admin")
    assert policy.can(admin, "admin.users")
    assert not policy.can(admin, "no.such.action")
    assert not policy.can(Anonymous(), "areas.view")
    assert not policy.can(None, "areas.view")
    member = make_user("member")
    assert not policy.can(member, "admin.users")
    member.active = False
    assert not policy.can(member, "areas.view")


def test_navigation_differs_by_role(client, login_as):
    login_as("admin")
    admin_page = client.get("/").text
    client.post("/logout")
    login_as("member")
    member_page = client.get("/").text
    assert admin_page != member_page or "管理" not in member_page
