"""The home page in Debian Chromium: Chinese, signed in, nothing fetched from outside."""


def test_login_and_home_in_chinese_with_no_outside_request(live_server, make_page, sign_in):
    page = make_page(live_server)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    sign_in(page, "leader")
    assert page.url.rstrip("/") == live_server.url
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    # home is the main map, drawn from static/ with its live layers
    page.wait_for_function("() => window.fwMap && window.fwMap.idle()")
    assert page.locator("main .folium-map.leaflet-container").count() == 1
    assert page.locator("nav").get_by_text("地图", exact=False).count() >= 1
    assert page.locator("nav").get_by_text("退出登录", exact=False).count() == 1
    # the stylesheet really loaded from static/ (Bootstrap sets the navbar colour)
    colour = page.eval_on_selector("nav.navbar", "e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    assert page.outside == []
    assert requests and all(u.startswith(live_server.url) for u in requests)
    assert page.js_errors == []


def test_wrong_password_shows_field_error(live_server, make_page, sign_in):
    page = make_page(live_server)
    sign_in(page, "leader", "wrong-password")
    assert "/login" in page.url
    assert "登录名或密码不正确" in page.inner_text("#login-form")
