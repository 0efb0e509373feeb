"""Web security, site-wide: CSRF on every form of every page each role reaches, inline
scripts by nonce only, no inline event handlers, CSP following the tile setting,
cookies (HttpOnly, SameSite, Secure over HTTPS), tokens revocable, "log out everywhere".

(Single checks already in tests/core: CSP basics, cookie flags on login, scrypt,
lockout in one process, tokens hashed, CSRF on the login form.)
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

ROLES = ("admin", "leader", "member", "supervisor", "unit")
#: GET rules that are not pages (machine faces, files, redirects)
NOT_PAGES = ("/api/", "/ogc", "/open311", "/tiles/", "/static/", "/photos/", "/sw.js", "/coverage.csv",
             "/coverage/villages.geojson", "/lang/")  # fmt: skip


class PageParser(HTMLParser):
    """Collect post forms (with their hidden inputs), inline scripts and inline handlers."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.scripts: list[dict] = []
        self.handlers: list[str] = []
        self.js_urls: list[str] = []
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs_d = dict(attrs)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.js_urls.append(f"<{tag} {name}={value!r}>")
        if tag == "form":
            self._form = {"method": (attrs_d.get("method") or "get").lower(), "action": attrs_d.get("action"),
                          "inputs": {}}  # fmt: skip
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and attrs_d.get("name"):
            self._form["inputs"][attrs_d["name"]] = attrs_d.get("value") or ""
        elif tag == "script":
            self.scripts.append(attrs_d)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def page_urls(app, ids: dict) -> list[str]:
    """Every GET page without arguments, plus a few with (the ids of planted rows)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.rule.startswith(NOT_PAGES):
            continue
        if rule.rule in ("/logout", "/logout/everywhere"):
            continue
        urls.append(rule.rule)
    urls += [
        f"/issues/{ids['issue_ref']}",
        f"/stations/{ids['station']}",
        f"/stations/{ids['station']}/edit",
        f"/visits/{ids['visit']}",
        f"/visits/{ids['visit']}/edit",
        f"/visits/{ids['visit']}/print",
        f"/followups/{ids['followup']}",
        f"/admin/users/{ids['user']}",
        f"/admin/categories/{ids['category']}",
        f"/admin/units/{ids['unit']}",
        "/areas/512099001000",
        "/places?lon=104.02&lat=30.05",
    ]
    return sorted(set(urls))


@pytest.fixture
def planted(app, small_county, make_user):
    from datetime import date

    from fieldwatch.extensions import db
    from fieldwatch.geo import point_element
    from fieldwatch.issues.services import report_issue
    from fieldwatch.models import Category, Followup, Station, Unit, Visit

    member = make_user("member")
    issue, _ = report_issue(member, title="井盖松动", category="roads", lon=104.02, lat=30.05)
    issue.unit_id = db.session.query(Unit.id).filter_by(code="water").scalar()
    station = Station(name="红星村议事站", kind="rural", location=point_element(104.02, 30.05),
                      area_id=small_county.villages["V11"].id)  # fmt: skip
    db.session.add(station)
    leader = make_user("leader")
    visit = Visit(title="井盖回访", form="on_site", status="planned", planned_for=date(2026, 12, 1),
                  leader_id=leader.id)  # fmt: skip
    db.session.add(visit)
    followup = Followup(issue_id=issue.id, due_on=date(2026, 12, 1), township_id=issue.township_id)
    db.session.add(followup)
    db.session.commit()
    return {
        "issue_ref": issue.ref,
        "station": station.id,
        "visit": visit.id,
        "followup": followup.id,
        "user": member.id,
        "category": db.session.query(Category.id).filter_by(code="roads").scalar(),
        "unit": issue.unit_id,
    }


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_every_form_has_csrf_and_scripts_carry_the_nonce(
    app, client, login_as, planted, csrf_on, role
):
    login_as(role, unit="water" if role == "unit" else None)
    pages = forms = 0
    post_actions = set()
    for url in page_urls(app, planted):
        response = client.get(url)
        assert response.status_code < 500, (role, url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        pages += 1
        html = response.get_data(as_text=True)
        csp = response.headers["Content-Security-Policy"]
        nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
        parser = PageParser()
        parser.feed(html)
        for form in parser.forms:
            if form["method"] != "post":
                continue
            forms += 1
            # a prefixed form's field is e.g. assign-csrf_token (CSRFProtect reads any *csrf_token)
            tokens = [v for k, v in form["inputs"].items() if k.endswith("csrf_token") and v]
            assert tokens, (role, url, form)
            post_actions.add(form["action"] or url)
        for script in parser.scripts:
            data_block = script.get("type", "text/javascript") not in (
                "text/javascript",
                "module",
                "",
            )
            if "src" not in script and not data_block:  # a JSON data block does not run
                assert script.get("nonce") == nonce, (role, url, script)
        assert parser.handlers == [], (role, url, parser.handlers)
        assert parser.js_urls == [], (role, url, parser.js_urls)
    assert pages >= 8 and forms >= 1, (role, pages, forms)
    # and each of those forms refuses a post without the token
    for action in sorted(post_actions):
        path = action.split("?")[0]
        response = client.post(path, data={"title": "x"}, headers={"Accept": "text/html"})
        assert response.status_code == 400, (role, action, response.status_code)
        assert "CSRF" in response.get_data(as_text=True)


def test_a_post_with_the_token_is_accepted(client, login_as, planted, csrf_on):
    login_as("member")
    html = client.get("/account/notifications").get_data(as_text=True)
    parser = PageParser()
    parser.feed(html)
    form = next(f for f in parser.forms if f["method"] == "post")
    response = client.post("/account/notifications", data=form["inputs"])
    assert response.status_code in (200, 302), response.status_code


def test_csp_allows_only_self_and_the_configured_tile_hosts(app, client, login_as, monkeypatch):
    login_as("member")

    def directives(response) -> dict[str, list[str]]:
        csp = response.headers["Content-Security-Policy"]
        return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}

    policy = directives(client.get("/login"))
    assert policy["default-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert [s for s in policy["script-src"] if not s.startswith("'nonce-")] == ["'self'"]
    assert not [h for h in policy["img-src"] if h.startswith("http")]
    monkeypatch.setitem(app.config, "TILE_URL", "https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    img = directives(client.get("/login"))["img-src"]
    assert "https://*.tiles.example.org" in img
    monkeypatch.setitem(app.config, "TILE_URL", "https://maps.county.gov.cn/t/{z}/{x}/{y}.png")
    img = directives(client.get("/"))["img-src"]
    assert "https://maps.county.gov.cn" in img and "https://*.tiles.example.org" not in img
    response = client.get("/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_every_machine_answer_has_nosniff_and_no_framing(client, login_as):
    login_as("admin")
    for url in ("/api/v1/me", "/api/v1/nope", "/ogc", "/open311/v2/services.json", "/sw.js"):
        response = client.get(url)
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url


def _cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_session_cookie_secure_over_https_only(client, make_user):
    make_user("member", login="https1")
    form = {"login": "https1", "password": "test-pass-123", "remember": "y"}
    plain = client.post("/login", data=form)
    assert plain.status_code == 302
    assert _cookies(plain) and all("Secure" not in c for c in _cookies(plain))
    client.post("/logout")
    secure = client.post("/login", data=form, base_url="https://localhost")
    assert secure.status_code == 302
    cookies = _cookies(secure)
    assert {c.split("=")[0] for c in cookies} >= {"session", "remember_token"}
    for cookie in cookies:
        assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
    assert "Strict-Transport-Security" in secure.headers


def test_behind_a_proxy_its_headers_are_trusted(app, client, make_user, monkeypatch):
    """With FIELDWATCH_BEHIND_PROXY the client's address and scheme come from nginx."""
    from fieldwatch.extensions import db
    from fieldwatch.models import AuditLog
    from fieldwatch.security import wrap_wsgi

    make_user("member", login="proxied1")
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    form = {"login": "proxied1", "password": "wrong-wrong"}
    assert client.post("/login", data=form, headers=headers).status_code == 401
    row = (
        db.session.query(AuditLog)
        .filter_by(action="login_failed")
        .order_by(AuditLog.id.desc())
        .first()
    )
    assert str(row.ip) == "127.0.0.1"  # not trusted without the setting

    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)  # restored after the test
    monkeypatch.setitem(app.config, "BEHIND_PROXY", True)
    wrap_wsgi(app)
    assert client.post("/login", data=form, headers=headers).status_code == 401
    row = (
        db.session.query(AuditLog)
        .filter_by(action="login_failed")
        .order_by(AuditLog.id.desc())
        .first()
    )
    assert str(row.ip) == "203.0.113.7"
    response = client.post(
        "/login", data={"login": "proxied1", "password": "test-pass-123"}, headers=headers
    )
    assert response.status_code == 302
    assert "; Secure" in response.headers["Set-Cookie"]


def test_revoked_token_is_401(client, login_as, make_user, token_for):
    from fieldwatch.extensions import db
    from fieldwatch.models import ApiToken

    user = login_as("member")
    headers = token_for(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token_id = db.session.query(ApiToken.id).filter_by(user_id=user.id).scalar()
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    response = client.post(f"/account/tokens/{token_id}/revoke")
    assert response.status_code in (200, 302)
    with client.session_transaction() as session:
        session.clear()  # only the token now
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_log_out_everywhere_ends_the_other_browsers_sessions(app, make_user):
    make_user("leader", login="everywhere1")
    phone, desktop = app.test_client(), app.test_client()
    for browser in (phone, desktop):
        browser.post("/login", data={"login": "everywhere1", "password": "test-pass-123"})
        assert browser.get("/").status_code == 200
    phone.post("/logout/everywhere")
    response = desktop.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert desktop.get("/api/v1/me").status_code == 401
    # signing in again works, and only ends sessions made before
    assert (
        desktop.post(
            "/login", data={"login": "everywhere1", "password": "test-pass-123"}
        ).status_code
        == 302
    )
    assert desktop.get("/").status_code == 200


def test_password_hashes_use_scrypt_parameters(make_user):
    user = make_user("member")
    method, salt, digest = user.password_hash.split("$")
    assert method.startswith("scrypt:") and int(method.split(":")[1]) >= 2**14
    assert len(salt) >= 16 and len(digest) >= 64


# --- a real server with two workers ------------------------------------------------------
def _login_over_a_fresh_connection(url: str, login: str, password: str, headers=None) -> tuple:
    """GET the form and POST it, each on its own new TCP connection; return (status, cookies)."""
    import http.client
    from urllib.parse import urlencode, urlsplit

    host = urlsplit(url).netloc

    def call(method, path, body=None, extra=None):
        conn = http.client.HTTPConnection(host, timeout=30)
        try:
            conn.request(method, path, body=body, headers={"Connection": "close", **(extra or {})})
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read().decode()
        finally:
            conn.close()

    _, got, html = call("GET", "/login")
    cookie = "; ".join(v.split(";")[0] for k, v in got if k.lower() == "set-cookie")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    body = urlencode({"csrf_token": token, "login": login, "password": password})
    status, got, _ = call(
        "POST",
        "/login",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, **(headers or {})},
    )
    return status, [v for k, v in got if k.lower() == "set-cookie"]


def test_lockout_holds_across_workers_until_it_ends(live_server):
    from datetime import UTC, datetime, timedelta

    import sqlalchemy

    made = live_server.cli("users", "create", "lock1", "--role", "member", "--password-stdin",
                           input="right-pass-2026\n")  # fmt: skip
    assert made.returncode == 0, made.stderr
    url = live_server.url
    host = url.split("//")[1]
    behind_tls = {
        "X-Forwarded-Proto": "https",
        "Referer": f"https://{host}/login",
    }  # CSRF checks it
    status, cookies = _login_over_a_fresh_connection(url, "lock1", "right-pass-2026", behind_tls)
    assert status == 302
    # gunicorn trusts X-Forwarded-Proto from 127.0.0.1: the cookie is Secure
    assert cookies and all("; Secure" in c and "HttpOnly" in c for c in cookies), cookies
    failures = [_login_over_a_fresh_connection(url, "lock1", "wrong-pass")[0] for _ in range(5)]
    assert failures == [401] * 5
    # the lock is in the database: whichever worker answers, the right password is refused
    locked = [_login_over_a_fresh_connection(url, "LOCK1", "right-pass-2026")[0] for _ in range(6)]
    assert locked == [429] * 6
    # the lock ends (moved into the past rather than waiting 15 minutes): signing in works again
    engine = sqlalchemy.create_engine(live_server.database_url)
    try:
        with engine.begin() as conn:
            until = conn.execute(
                sqlalchemy.text("SELECT max(locked_until) FROM login_throttle")
            ).scalar()
            assert timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
            conn.execute(
                sqlalchemy.text(
                    "UPDATE login_throttle SET locked_until = now() - interval '1 second'"
                )
            )
    finally:
        engine.dispose()
    assert _login_over_a_fresh_connection(url, "lock1", "right-pass-2026")[0] == 302
