"""A member reports a problem from a phone: with a photo; and with the app unreachable."""

import json
import re

import pytest

from fieldwatch.photos.samples import sample_image

#: inside the demo county (its office is near 104.65, 30.12)
HERE = {"latitude": 30.1215, "longitude": 104.6512, "accuracy": 8}


def phone(make_page, server):
    return make_page(server, phone=True, geolocation=HERE, permissions=["geolocation"])


def jpeg(name: str = "drain.jpg") -> dict:
    return {
        "name": name,
        "mimeType": "image/jpeg",
        "buffer": sample_image(size=(320, 240), lonlat=(104.6512, 30.1215)),
    }


def fill_report(page, title: str) -> None:
    page.goto("/issues/new")
    page.wait_for_selector("#fix-status[data-quality=good]")
    assert "±8 m" in page.inner_text("#fix-status")
    page.select_option("select[name=category]", "drainage")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=description]", "雨后积水没过脚踝")
    page.set_input_files("#photos", files=[jpeg()])
    page.wait_for_selector("#photo-previews img")


def issues_titled(page, title: str) -> list[dict]:
    response = page.request.get(f"/api/v1/issues?q={title}")
    assert response.ok, response.text()
    return response.json()["features"]


def test_report_a_problem_with_a_photo(live_server, make_page, sign_in):
    page = phone(make_page, live_server)
    sign_in(page, "member")
    fill_report(page, "人民路排水沟堵塞")
    page.click("#report-submit")
    page.wait_for_url(re.compile(r"/issues/FW-\d{4}-\d{6}$"))
    assert page.inner_text("#issue-title") == "人民路排水沟堵塞"
    assert page.get_attribute("#issue-status", "data-status") == "reported"
    thumb = page.locator("#photos img").first
    thumb.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    assert "手机定位" in page.inner_text("body") and "±8 m" in page.inner_text("body")
    [found] = issues_titled(page, "人民路排水沟堵塞")
    props = found["properties"]
    assert props["location_source"] == "gps" and props["accuracy_m"] == 8
    assert props["observed_at"] is not None and props["township_code"]
    assert found["geometry"]["coordinates"] == pytest.approx([104.6512, 30.1215], abs=1e-6)
    photo = page.request.get(props["thumb_url"])
    assert photo.ok and photo.headers["content-type"] == "image/jpeg"
    assert page.outside == [] and page.js_errors == []


def test_report_while_unreachable_is_kept_and_sent_exactly_once(live_server, make_page, sign_in):
    page = phone(make_page, live_server)
    sign_in(page, "member")
    page.goto("/issues/new")
    # the service worker keeps the form and its assets for use with no signal
    assert page.evaluate("navigator.serviceWorker.ready.then(r => Boolean(r.active))")
    title = "离线上报的井盖松动"

    # 1. the app is unreachable: nothing gets through, not even the page itself;
    #    the service worker serves the form from the device
    blocked = []

    def unreachable(route):
        blocked.append(route.request.url)
        route.abort("internetdisconnected")

    page.context.route("**/*", unreachable)
    fill_report(page, title)
    assert any(url.endswith("/issues/new") for url in blocked)
    page.click("#report-submit")
    item = page.locator("#outbox .fw-outbox-item[data-state=waiting]")
    item.wait_for()
    assert page.locator("#outbox .fw-outbox-item").count() == 1
    assert title in item.inner_text() and "1 张照片" in item.inner_text()
    assert "待上传" in page.inner_text("#report-status")
    assert any(url.endswith("/api/v1/issues") for url in blocked)

    # 2. the request reaches the server but the answer is lost on the way back
    page.context.unroute("**/*", unreachable)
    lost = []

    def answer_lost(route):
        if route.request.method == "POST":
            lost.append(route.fetch().status)  # the server does get it
            route.abort("connectionreset")
        else:
            route.continue_()

    page.context.route("**/api/v1/issues", answer_lost)
    page.click("#outbox .fw-outbox-send")
    page.wait_for_function(
        "() => document.querySelector('#outbox .fw-outbox-send').disabled === false"
    )
    assert lost == [201]
    assert page.get_attribute("#outbox .fw-outbox-item", "data-state") == "waiting"

    # 3. the network is back: "send now" delivers it; the server answers with the original
    page.context.unroute("**/api/v1/issues")
    page.click("#outbox .fw-outbox-send")
    page.wait_for_selector("#outbox .fw-outbox-item[data-state=sent]")
    assert (
        page.locator("#outbox .fw-outbox-item a")
        .first.get_attribute("href")
        .startswith("/issues/FW-")
    )

    found = issues_titled(page, title)
    assert len(found) == 1, json.dumps(found, ensure_ascii=False)
    detail = page.request.get(f"/api/v1/issues/{found[0]['id']}").json()
    assert len(detail["properties"]["photos"]) == 1
    assert page.outside == [] and page.js_errors == []


def test_no_fix_photo_location_and_add_to_the_nearby_issue_instead(live_server, make_page, sign_in):
    page = make_page(live_server, phone=True)  # location not allowed
    sign_in(page, "member")
    existing = page.request.post(
        "/api/v1/issues",
        multipart={
            "title": "广场排水口堵塞",
            "category": "drainage",
            "lon": "104.6512",
            "lat": "30.1215",
            "photos": jpeg("first.jpg"),
        },
        headers={"Origin": live_server.url},
    )
    assert existing.status == 201, existing.text()
    ref = existing.json()["properties"]["ref"]

    page.goto("/issues/new")
    page.wait_for_selector("#fix-status[data-quality=none]")
    page.fill("input[name=title]", "广场又积水了")
    page.set_input_files("#photos", files=[jpeg("second.jpg")])  # EXIF GPS 104.6512, 30.1215
    page.click("#use-exif")
    assert page.get_attribute("#fix-status", "data-quality") == "exif"
    assert float(page.input_value("input[name=lon]")) == pytest.approx(104.6512, abs=1e-5)
    page.select_option("select[name=category]", "drainage")
    duplicate = page.locator(f".fw-duplicate:has-text('{ref}')")
    duplicate.wait_for()
    assert "约 0 米" in duplicate.inner_text() or "约 1 米" in duplicate.inner_text()
    assert duplicate.locator("img.fw-dup-thumb").count() == 1
    duplicate.locator("button").click()
    assert page.input_value("#add-there-note") == "广场又积水了"
    page.click("#add-there-send")
    page.wait_for_url(f"**/issues/{ref}")
    assert "广场又积水了" in page.inner_text("#timeline")
    assert page.locator("#photos img").count() == 2
    assert len(issues_titled(page, "广场又积水了")) == 0  # nothing new was reported
    assert page.outside == [] and page.js_errors == []
