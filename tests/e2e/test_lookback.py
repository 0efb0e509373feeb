"""Look-back in Debian Chromium: an inspector records on a phone (also with no signal); a
supervisor sees the overdue list, the map and the ranking. The data is made through the
live server's own API (tokens from its CLI) before the browser step."""

from __future__ import annotations

import json
import urllib.request

import pytest
from pyproj import Geod

from fieldwatch.photos.samples import sample_image

GEOD = Geod(ellps="WGS84")
#: a street in the demo county (雁江区), away from the demo's own problems
PLACE = (104.6702, 30.1331)


def token(server, login: str) -> str:
    result = server.cli("users", "token", login)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def call(server, bearer: str, method: str, path: str, body: dict | None = None):
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json",
                 "Accept": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def resolved_problem(server, title: str, place=PLACE) -> tuple[int, int]:
    """Report, assign and resolve (class A) a problem; return (issue id, its look-back id)."""
    member, leader = token(server, "member"), token(server, "leader")
    status, feature = call(server, member, "POST", "/api/v1/issues",
                           {"title": title, "category": "roads", "lon": place[0], "lat": place[1],
                            "accuracy_m": 6, "location_source": "gps"})  # fmt: skip
    assert status == 201, feature
    issue_id = feature["id"] if "id" in feature else feature["properties"]["id"]
    for move in ({"to": "accepted"}, {"to": "in_progress", "unit": "water"},
                 {"to": "resolved", "answer_class": "A", "note": "井盖已更换"}):  # fmt: skip
        status, body = call(server, leader, "POST", f"/api/v1/issues/{issue_id}/transitions", move)
        assert status == 200, body
    status, listed = call(server, leader, "GET", "/api/v1/followups?state=due&limit=500")
    [followup] = [i for i in listed["items"] if i["issue_id"] == issue_id]
    assert followup["state"] == "due" and followup["kind"] == "scheduled"
    return issue_id, followup["id"]


def north(point, metres):
    lon, lat, _ = GEOD.fwd(point[0], point[1], 0, metres)
    return lon, lat


def phone_at(make_page, server, point, accuracy=9):
    page = make_page(server, phone=True, service_workers="block")
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation(
        {"longitude": point[0], "latitude": point[1], "accuracy": accuracy}
    )
    return page


def jpeg(name="site.jpg") -> dict:
    return {"name": name, "mimeType": "image/jpeg",
            "buffer": sample_image(size=(320, 240), colour=(60, 140, 90), lonlat=PLACE)}  # fmt: skip


def fill(page, finding="solved"):
    page.wait_for_function(
        "() => document.getElementById('position-card').getAttribute('data-distance')"
    )
    page.click(f"label[for=finding-{finding}]")
    page.click("label[for=satisfaction-satisfied]")
    page.fill("textarea[name=note]", "井盖已更换为防坠井盖，群众满意")
    page.set_input_files("#photos", files=[jpeg()])


def test_record_a_look_back_on_a_phone_and_see_the_problem_closed(live_server, make_page, sign_in):
    issue_id, followup_id = resolved_problem(live_server, "人民路井盖松动")
    page = phone_at(make_page, live_server, north(PLACE, 40))
    sign_in(page, "member")
    page.goto(f"/followups/{followup_id}")
    assert page.get_attribute("#issue-status", "data-status") == "resolved"
    fill(page)
    distance = int(page.get_attribute("#position-card", "data-distance"))
    assert 38 <= distance <= 42
    assert page.inner_text("#onsite-badge") == "在现场"
    assert "距问题地点 40 米" in page.inner_text("#position-text")
    assert "定位精度 9 米" in page.inner_text("#position-detail")
    assert page.locator(".lookback-map .leaflet-container").bounding_box()["height"] > 150
    page.click("#record-submit")
    page.wait_for_selector("#lookback-result")
    assert page.get_attribute("#issue-status", "data-status") == "closed"
    result = page.inner_text("#lookback-result")
    assert "已解决" in result and "现场" in result and "满意" in result
    thumb = page.locator("#lookback-photos img").first
    thumb.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )

    leader = token(live_server, "leader")
    status, body = call(live_server, leader, "GET", f"/api/v1/followups/{followup_id}")
    assert status == 200 and body["state"] == "done" and body["finding"] == "solved"
    assert body["on_site"] is True and body["distance_m"] == pytest.approx(40, abs=1)
    assert body["issue_status"] == "closed" and len(body["photos"]) == 1
    assert page.outside == [] and page.js_errors == []


def test_record_with_no_signal_is_kept_and_sent_exactly_once(live_server, make_page, sign_in):
    issue_id, followup_id = resolved_problem(live_server, "建设路护栏损坏", (104.6655, 30.1290))
    page = phone_at(make_page, live_server, north((104.6655, 30.1290), 350), accuracy=20)
    sign_in(page, "member")
    page.goto(f"/followups/{followup_id}")
    fill(page, "unsolved")
    assert page.inner_text("#onsite-badge") == "非现场"  # 350 m away: kept, marked off site

    # 1. no signal: the record and its photo wait on the device
    def unreachable(route):
        route.abort("internetdisconnected")

    page.context.route("**/api/**", unreachable)
    page.click("#record-submit")
    page.wait_for_selector("#record-queued:not(.d-none)")
    waiting = page.locator("#lookback-outbox .fw-outbox-item[data-state=waiting]")
    waiting.nth(1).wait_for()
    assert waiting.count() == 2  # the record, then its photo

    # 2. the record reaches the server but the answer is lost on the way back
    page.context.unroute("**/api/**", unreachable)
    lost = []

    def answer_lost(route):
        lost.append(route.fetch().status)
        route.abort("connectionreset")

    page.context.route(f"**/api/v1/followups/{followup_id}/record", answer_lost)
    page.click("#lookback-outbox .fw-outbox-send")
    page.wait_for_function(
        "() => !document.querySelector('#lookback-outbox .fw-outbox-send').disabled"
    )
    assert lost == [200]

    # 3. signal again: "send now" delivers both; the server answers the record with the original
    page.context.unroute(f"**/api/v1/followups/{followup_id}/record", answer_lost)
    page.click("#lookback-outbox .fw-outbox-send")
    sent = page.locator("#lookback-outbox .fw-outbox-item[data-state=sent]")
    sent.nth(1).wait_for()
    assert sent.count() == 2

    leader = token(live_server, "leader")
    status, body = call(live_server, leader, "GET", f"/api/v1/followups/{followup_id}")
    assert body["finding"] == "unsolved" and body["on_site"] is False
    assert body["distance_m"] == pytest.approx(350, abs=2) and len(body["photos"]) == 1
    assert body["issue_status"] == "in_progress"
    status, listed = call(live_server, leader, "GET", "/api/v1/followups?limit=500")
    mine = [i for i in listed["items"] if i["issue_id"] == issue_id]
    assert sorted(i["state"] for i in mine) == ["done", "due"]  # one record, one rework
    status, issue = call(live_server, leader, "GET", f"/api/v1/issues/{issue_id}")
    assert issue["properties"]["reopen_count"] == 1
    assert page.outside == [] and page.js_errors == []


def test_a_refused_record_is_shown_and_not_kept(live_server, make_page, sign_in):
    issue_id, followup_id = resolved_problem(live_server, "文化路积水", (104.6580, 30.1250))
    page = phone_at(make_page, live_server, (104.6580, 30.1250))
    sign_in(page, "member")
    page.goto(f"/followups/{followup_id}")
    fill(page)
    # someone else records it first
    other = token(live_server, "member3")
    status, _ = call(live_server, other, "POST", f"/api/v1/followups/{followup_id}/record",
                     {"finding": "solved"})  # fmt: skip
    assert status == 200
    page.click("#record-submit")
    page.wait_for_selector("#record-error:not(.d-none)")
    assert "已经记录过" in page.inner_text("#record-error")
    assert page.locator("#lookback-outbox .fw-outbox-item").count() == 0
    assert page.outside == [] and page.js_errors == []


def test_a_supervisor_sees_the_overdue_list_the_map_and_the_ranking(
    live_server, make_page, sign_in
):
    page = make_page(live_server)
    sign_in(page, "supervisor")
    page.goto("/followups/")
    overdue = page.locator("#overdue tbody tr")
    assert overdue.count() >= 3  # the demo county has look-backs overdue
    assert "逾期" in overdue.first.inner_text()
    assert int(page.inner_text("[data-count=overdue] .fs-3")) == overdue.count()
    ranking = page.locator("#ranking tbody tr")
    assert ranking.count() == 19  # every township of the demo county
    first = ranking.first.locator("td").first.inner_text()
    assert first == "1"
    assert page.locator("#map-section .leaflet-container").bounding_box()["height"] > 300
    page.wait_for_function(
        "() => document.querySelectorAll('#map-section path.leaflet-interactive').length > 0"
    )
    assert page.locator("#breakdown tfoot").inner_text().startswith("合计")
    href = page.get_attribute("#export-ranking", "href")
    download = page.request.get(href)
    assert download.ok and download.body().startswith(b"\xef\xbb\xbf")
    assert "名次" in download.body().decode("utf-8-sig").splitlines()[0]
    # the overdue problem opens on its look-back page
    overdue.first.locator("a").first.click()
    page.wait_for_selector("#lookback-status")
    assert "逾期" in page.inner_text("#lookback-status")
    assert page.locator("#assign-form").count() == 1
    assert page.outside == [] and page.js_errors == []


def test_the_place_page_from_a_problem(live_server, make_page, sign_in):
    issue_id, followup_id = resolved_problem(live_server, "中心路口信号灯故障", (104.6620, 30.1310))
    page = make_page(live_server, phone=True)
    sign_in(page, "leader")
    status, issue = call(live_server, token(live_server, "leader"), "GET",
                         f"/api/v1/issues/{issue_id}")  # fmt: skip
    page.goto(f"/issues/{issue['properties']['ref']}")
    page.click("#place-history")
    page.wait_for_selector("#timeline")
    assert "中心路口信号灯故障" in page.inner_text("#timeline")
    assert "个问题" in page.inner_text("#place-summary")
    assert page.locator(".leaflet-container").count() == 1
    assert page.outside == [] and page.js_errors == []
