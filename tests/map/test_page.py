"""The main map page: a light skeleton (no data inlined), every script nonce'd, the first view."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fieldwatch.issues import services as issues
from fieldwatch.map.gcj import wgs_to_gcj

STATIC = Path(__file__).resolve().parents[2] / "static"


class Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.tags.append(dict(attrs))


def scripts(html: str) -> list[dict]:
    parser = Scripts()
    parser.feed(html)
    return parser.tags


def config(html: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="fw-map-config">(.*?)</script>', html, re.S
    )
    return json.loads(found.group(1))


def fit_bounds(html: str) -> list[list[float]]:
    found = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", html, re.S)
    return json.loads(found.group(1))


def test_every_inline_script_carries_the_requests_nonce(client, login_as, small_county):
    login_as("leader")
    page = client.get("/")
    assert page.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
    tags = scripts(page.text)
    inline = [t for t in tags if "src" not in t and t.get("type") != "application/json"]
    assert len(inline) >= 2  # folium's header flags and its map script
    assert all(t.get("nonce") == nonce for t in inline)
    sources = [t["src"] for t in tags if "src" in t]
    assert "/static/js/map-live.js" in sources
    assert all(
        s.startswith("/static/") and (STATIC / s.removeprefix("/static/")).is_file()
        for s in sources
    )
    # folium's jQuery and awesome-markers are not needed; Bootstrap is loaded once
    assert not any("jquery" in s or "awesome-markers" in s for s in sources)
    assert sum("bootstrap.bundle" in s for s in sources) == 1


def test_the_page_holds_no_data_and_stays_small(client, login_as, small_county, make_user):
    user = login_as("leader")
    before = client.get("/").text
    reporter = make_user("member")
    for n in range(300):
        issues.report_issue(
            reporter, title=f"井盖松动 {n}", category="safety", lon=104.001 + n * 0.0003, lat=30.05
        )
    after = client.get("/").text
    assert len(after.encode()) < 300_000
    # the same size however many problems there are (only the nonce differs)
    assert abs(len(after) - len(before)) < 50
    assert "井盖松动" not in after and '"Feature"' not in after
    settings = config(after)
    assert [layer["id"] for layer in settings["layers"]] == [
        "townships",
        "villages",
        "visits",
        "stations",
        "followups",
        "issues",
    ]
    issues_layer = next(layer for layer in settings["layers"] if layer["id"] == "issues")
    assert (
        issues_layer["url"] == "/api/v1/map/layers/issues" and issues_layer["source"] == "geojson"
    )
    villages = next(layer for layer in settings["layers"] if layer["id"] == "villages")
    assert villages["source"] == "tiles" and villages["url"] == "/tiles/villages/{z}/{x}/{y}.pbf"
    assert settings["history_url"] == "/places" and settings["gcj02"] is False
    assert settings["storage_key"].endswith(str(user.id))
    assert settings["strings"]["statuses"]["in_progress"] == "办理中"


def test_the_first_view_is_the_county_or_the_users_township(client, login_as, small_county):
    login_as("leader")
    assert fit_bounds(client.get("/").text) == [[30.0, 104.0], [30.1, 104.2]]
    login_as("member", township=small_county.townships["T2"].code)
    assert fit_bounds(client.get("/").text) == [[30.0, 104.1], [30.1, 104.2]]


def test_on_amap_the_first_view_is_shifted_and_villages_come_as_geojson(
    app, client, login_as, small_county, monkeypatch
):
    monkeypatch.setitem(app.config, "BASEMAP", "amap")
    login_as("leader")
    html = client.get("/").text
    (south, west), (north, east) = fit_bounds(html)
    assert (west, south) == pytest.approx(wgs_to_gcj(104.0, 30.0))
    assert (east, north) == pytest.approx(wgs_to_gcj(104.2, 30.1))
    settings = config(html)
    assert settings["gcj02"] is True
    assert {layer["source"] for layer in settings["layers"]} == {"geojson"}


def test_with_no_places_yet_the_page_says_what_to_do(client, login_as):
    login_as("admin")
    html = client.get("/").text
    assert "还没有地点数据" in html and 'href="/areas/import"' in html
    assert "[35.0, 105.0]" in html  # all of China
    login_as("member")
    html = client.get("/").text
    assert "管理员导入乡镇和村的边界后" in html and "/areas/import" not in html


def test_the_page_is_english_for_english_users(client, login_as, small_county):
    login_as("member")
    client.post("/lang/en", data={"next": "/"})
    html = client.get("/").text
    assert config(html)["strings"]["statuses"]["in_progress"] == "In progress"
    assert config(html)["layers"][0]["label"] == "Townships and coverage"
