"""The main map in Debian Chromium on the demo county: offline, layers drawn, search, history, AMap.

Every request that is not to the app is blocked (make_page records it in
`page.outside`); with the base map set to none the map must still draw all its
layers, which proves it works on an intranet with no internet.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import psycopg2
import pytest

from fieldwatch.geo import distance_m
from fieldwatch.map.gcj import wgs_to_gcj

IDLE = "() => window.fwMap && window.fwMap.idle()"
#: problems added at known points of the demo county (a township of 雁江区)
HERE = (104.6351, 30.2171)


def sql(server, statement: str, params: dict | None = None):
    url = server.database_url.replace("postgresql+psycopg2://", "postgresql://")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(statement, params or {})
        rows = cur.fetchall() if cur.description else None
    conn.close()
    return rows


def add_issue(server, ref: str, lon: float, lat: float, status="reported", due=None, reopen=0):
    """Insert a problem placed in its township, as report_issue would (the demo may have none)."""
    return sql(
        server,
        """
        INSERT INTO issues (ref, title, category_id, location, location_source, source,
                            township_id, area_id, created_at, updated_at, status, priority,
                            due_on, reopen_count, unit_id)
        SELECT %(ref)s, %(title)s, (SELECT id FROM categories WHERE code = 'roads'),
               ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 'gps', 'field',
               (SELECT id FROM areas WHERE level = 'township'
                AND ST_Intersects(boundary, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))),
               NULL, now(), now(), %(status)s, 'normal', %(due)s, %(reopen)s,
               (SELECT id FROM units WHERE code = 'water')
        RETURNING id
        """,
        {
            "ref": ref,
            "title": f"测试问题 {ref}",
            "lon": lon,
            "lat": lat,
            "status": status,
            "due": due,
            "reopen": reopen,
        },
    )[0][0]


@pytest.fixture(scope="module")
def county(module_live_server):
    """The demo county plus three known problems near HERE: overdue, reopened, reported."""
    server = module_live_server
    today = date.today()
    ids = {
        "overdue": add_issue(
            server, "FW-2026-900001", HERE[0], HERE[1], "in_progress", today - timedelta(days=5)
        ),
        "reopened": add_issue(
            server,
            "FW-2026-900002",
            HERE[0] + 0.004,
            HERE[1],
            "in_progress",
            today + timedelta(days=9),
            1,
        ),
        "reported": add_issue(server, "FW-2026-900003", HERE[0] - 0.004, HERE[1] + 0.002),
    }
    return server, ids


MARKER = """(id) => { let found = null;
    fwMap.layers.issues.group.eachLayer(function walk(l) {
        if (l.eachLayer) { l.eachLayer(walk); }
        else if (l.feature && l.feature.properties.id === id) { found = l; } });
    if (!found) { return null; }
    const p = fwMap.map.latLngToContainerPoint(found.getLatLng());
    return {x: p.x, y: p.y, lon: found.getLatLng().lng, lat: found.getLatLng().lat,
            classes: found._path.getAttribute("class")}; }"""


def marker(page, issue_id: int) -> dict | None:
    """Where a problem's marker is drawn (container pixels and lon/lat) and its CSS classes."""
    return page.evaluate(MARKER, issue_id)


def open_map(make_page, sign_in, server, login="leader", **options):
    page = make_page(server, **options)
    sign_in(page, login)
    page.goto("/")
    page.wait_for_function(IDLE)
    return page


def set_view(page, lon, lat, zoom):
    """Move the map so that (lon, lat) WGS-84 is in the middle, and wait for the layers."""
    page.evaluate(
        "([lon, lat, zoom]) => fwMap.map.setView(fwMap.toMap(lon, lat), zoom, {animate: false})",
        [lon, lat, zoom],
    )
    page.wait_for_function(IDLE)


def test_offline_the_map_draws_every_layer(county, make_page, sign_in):
    server, ids = county
    page = open_map(make_page, sign_in, server)
    counts = page.evaluate("fwMap.counts()")
    assert counts["townships"] >= 19  # the demo's 19 townships, coloured by coverage
    assert counts["stations"] > 0 and counts["issues"] > 0
    assert page.locator("path.leaflet-interactive").count() >= 19
    # closer in: the problems themselves, the overdue and the reopened stand out
    set_view(page, *HERE, 15)
    assert "fw-overdue" in marker(page, ids["overdue"])["classes"]
    assert "fw-reopened" in marker(page, ids["reopened"])["classes"]
    plain = marker(page, ids["reported"])["classes"]
    assert "fw-overdue" not in plain and "fw-reopened" not in plain
    assert page.evaluate("fwMap.counts()")["issues"] >= 3
    # villages come as vector tiles, drawn as SVG paths
    page.locator(".leaflet-control-layers").hover()
    page.locator(".leaflet-control-layers-overlays label", has_text="村(社区)").locator(
        "input"
    ).check()
    page.wait_for_function(IDLE)
    page.wait_for_function("() => fwMap.layers.villages.count() > 0")
    # look-backs layer on too: nothing fails
    page.locator(".leaflet-control-layers-overlays label", has_text="回头看").locator(
        "input"
    ).check()
    page.wait_for_function(IDLE)
    assert page.locator(".fw-map-status.fw-danger").count() == 0
    assert page.outside == []
    assert page.js_errors == []


def test_the_page_is_light_whatever_the_data(county, make_page, sign_in):
    server, _ = county
    page = make_page(server)
    sign_in(page, "leader")
    html = page.request.get(server.url + "/").text()
    assert len(html.encode()) < 300_000
    assert "FW-2026-900001" not in html
    print(f"\nHTML of / on the demo county: {len(html.encode())} bytes")


def test_search_a_place_and_a_problem_ref(county, make_page, sign_in):
    server, ids = county
    page = open_map(make_page, sign_in, server)
    township = sql(server, "SELECT name FROM areas WHERE level = 'township' ORDER BY code LIMIT 1")[
        0
    ][0]
    page.fill(".fw-search input", township)
    page.press(".fw-search input", "Enter")
    first = page.locator(".fw-results .fw-result").first
    first.wait_for()
    assert township in first.inner_text()
    first.click()
    page.wait_for_function(IDLE)
    assert township in page.locator(".leaflet-popup-content").inner_text()
    page.fill(".fw-search input", "900002")
    page.press(".fw-search input", "Enter")
    hit = page.locator(".fw-results .fw-result", has_text="FW-2026-900002")
    hit.click()
    popup = page.locator(".leaflet-popup-content")
    assert "FW-2026-900002" in popup.inner_text()
    assert popup.locator(f'a[href="/issues/{ids["reopened"]}"]').count() == 1
    page.fill(".fw-search input", "没有这个地方")
    page.press(".fw-search input", "Enter")
    page.locator(".fw-results .fw-empty").wait_for()
    assert page.js_errors == []


def history_point(page) -> tuple[float, float, str]:
    href = page.locator(".leaflet-popup-content a.fw-history").get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    return float(query["lon"][0]), float(query["lat"][0]), query["radius"][0]


def test_a_click_opens_the_places_history(county, make_page, sign_in):
    server, ids = county
    page = open_map(make_page, sign_in, server)
    set_view(page, *HERE, 16)
    box = page.locator(".folium-map").bounding_box()
    # a spot near the middle where nothing but the township's own polygon is drawn
    spot = page.evaluate(
        """([x0, y0, w, h]) => {
            for (let d = 40; d < 300; d += 13) {
                for (const [dx, dy] of [[d, d], [-d, d], [d, -d], [-d, -d]]) {
                    const x = x0 + w / 2 + dx, y = y0 + h / 2 + dy;
                    const hit = document.elementFromPoint(x, y);
                    if (hit && hit.closest(".leaflet-fwTownships-pane")) { return [x, y]; }
                }
            }
            return null; }""",
        [box["x"], box["y"], box["width"], box["height"]],
    )
    page.mouse.click(*spot)
    lon, lat, radius = history_point(page)
    assert radius == "200"
    assert distance_m((lon, lat), HERE) < 600  # under 300 px off centre at zoom 16
    # a problem's own history link is at the problem
    page.evaluate("fwMap.map.closePopup()")
    page.wait_for_function(IDLE)  # the popup may have panned the map
    page.locator(".leaflet-popup").wait_for(state="detached")  # it fades out first
    at = marker(page, ids["overdue"])
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    lon, lat, _ = history_point(page)
    assert (lon, lat) == pytest.approx(HERE, abs=1e-6)
    assert page.locator(f'.leaflet-popup-content a[href="/issues/{ids["overdue"]}"]').count() == 1
    page.locator(".leaflet-popup-content a.fw-history").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/places"
    assert page.outside == [] and page.js_errors == []


def test_my_location(county, make_page, sign_in):
    server, _ = county
    page = open_map(
        make_page,
        sign_in,
        server,
        phone=True,
        geolocation={"longitude": HERE[0], "latitude": HERE[1], "accuracy": 12},
        permissions=["geolocation"],
    )
    page.locator(".fw-locate a").click()
    page.locator("path.fw-me").wait_for()
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "我的位置" in popup and "12" in popup
    centre = page.evaluate(
        "(() => { const c = fwMap.fromMap(fwMap.map.getCenter()); return [c.lon, c.lat]; })()"
    )
    assert distance_m(tuple(centre), HERE) < 5
    assert page.outside == [] and page.js_errors == []


def test_on_amap_drawing_is_shifted_and_clicks_shift_back(live_server, make_page, sign_in):
    """AMap's tiles are GCJ-02: markers are drawn shifted, clicks come back as WGS-84 (< 1 m)."""
    sql(live_server, "INSERT INTO settings (key, value) VALUES ('basemap', '{\"kind\": \"amap\"}')")
    issue_id = add_issue(live_server, "FW-2026-900009", HERE[0], HERE[1], "reported")
    page = open_map(make_page, sign_in, live_server)
    set_view(page, *HERE, 18)
    at = marker(page, issue_id)
    drawn = (at["lon"], at["lat"])
    # the browser's gcoord and Python's prcoords agree on where it goes
    assert distance_m(drawn, wgs_to_gcj(*HERE)) < 0.01
    assert 100 < distance_m(drawn, HERE) < 1000
    # gcoord's round trip in the browser, over the county
    worst = page.evaluate(
        """() => { let worst = 0;
            for (let i = 0; i <= 10; i++) for (let j = 0; j <= 10; j++) {
                const lon = 104.4 + i * 0.05, lat = 29.9 + j * 0.04;
                const back = fwMap.fromMap(fwMap.toMap(lon, lat));
                const dx = (back.lon - lon) * 111320 * Math.cos(lat * Math.PI / 180), dy = (back.lat - lat) * 110540;
                worst = Math.max(worst, Math.hypot(dx, dy)); }
            return worst; }"""
    )
    assert worst < 1.0
    # a click on the drawn (shifted) spot of a WGS-84 point gives that point back
    target = (HERE[0] + 0.0005, HERE[1] + 0.0003)
    point = page.evaluate(
        "([lon, lat]) => { const p = fwMap.map.latLngToContainerPoint(fwMap.toMap(lon, lat)); return [p.x, p.y]; }",
        list(target),
    )
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    lon, lat, _ = history_point(page)
    # a pixel at zoom 18 is about 0.5 m: the click lands within a metre of the point
    assert distance_m((lon, lat), target) < 1.0
    # only AMap's tile servers were asked for (and blocked here); no data went anywhere else
    assert page.outside and all(
        re.match(r"https://webrd0[1-4]\.is\.autonavi\.com/", u) for u in page.outside
    )
    assert page.js_errors == []
