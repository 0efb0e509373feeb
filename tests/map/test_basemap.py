"""Base maps: which one is in force, its tile URLs, the CSP host it needs, GCJ-02 round trips."""

import re

import pytest

from fieldwatch.extensions import db
from fieldwatch.geo import distance_m
from fieldwatch.map import basemap
from fieldwatch.map.gcj import gcj_to_wgs, in_china, wgs_to_gcj
from fieldwatch.models import Setting

KEY = "0123456789abcdef0123456789abcdef"


def test_nothing_configured_means_no_base_tiles():
    chosen = basemap.build("")
    assert (chosen.kind, chosen.layers, chosen.hosts, chosen.gcj02) == ("none", (), (), False)


def test_a_tianditu_key_alone_makes_tianditu_the_default():
    chosen = basemap.build("", tianditu_key=KEY)
    assert chosen.kind == "tianditu"
    vec, cva = chosen.layers
    assert "/vec_w/wmts?" in vec.url and "LAYER=vec" in vec.url and f"tk={KEY}" in vec.url
    assert "/cva_w/wmts?" in cva.url and cva.overlay is True and vec.overlay is False
    assert "TILEMATRIXSET=w" in vec.url and "{z}" in vec.url and "{s}" in vec.url
    assert vec.subdomains == "01234567"
    assert chosen.hosts == ("https://*.tianditu.gov.cn",)


def test_tianditu_without_a_key_falls_back_to_none_and_says_why():
    chosen = basemap.build("tianditu")
    assert chosen.kind == "none" and "FIELDWATCH_TIANDITU_KEY" in chosen.problem


@pytest.mark.parametrize(
    ("kind", "host", "gcj02"),
    [
        ("osm", "https://tile.openstreetmap.org", False),
        ("amap", "https://*.is.autonavi.com", True),
    ],
)
def test_public_base_maps(kind, host, gcj02):
    chosen = basemap.build(kind)
    assert chosen.hosts == (host,) and chosen.gcj02 is gcj02
    assert len(chosen.layers) == 1 and chosen.layers[0].attribution


def test_an_internal_tile_server():
    chosen = basemap.build("custom", tile_url="https://tiles.gov.example:8443/{z}/{x}/{y}.png")
    assert chosen.hosts == ("https://tiles.gov.example:8443",)
    subdomains = basemap.build("", tile_url="http://{s}.tiles.lan/{z}/{x}/{y}.png")
    assert subdomains.kind == "custom" and subdomains.hosts == ("http://*.tiles.lan",)
    same_site = basemap.build("custom", tile_url="/basemap/{z}/{x}/{y}.png")
    assert same_site.hosts == ()
    assert basemap.build("custom").kind == "none"
    # an admin's attribution is text, never HTML
    quoted = basemap.build("custom", tile_url="/t/{z}/{x}/{y}.png", attribution="<b>局</b>")
    assert quoted.layers[0].attribution == "&lt;b&gt;局&lt;/b&gt;"


def test_an_unknown_kind_is_none_with_a_reason():
    chosen = basemap.build("google")
    assert chosen.kind == "none" and chosen.problem


# --- the page's CSP follows the choice -------------------------------------------------
def img_src(response) -> list[str]:
    csp = response.headers["Content-Security-Policy"]
    return re.search(r"img-src ([^;]+)", csp).group(1).split()


@pytest.mark.parametrize(
    ("config", "host", "in_script"),
    [
        ({"BASEMAP": "tianditu", "TIANDITU_KEY": KEY}, "https://*.tianditu.gov.cn", "vec_w"),
        ({"TIANDITU_KEY": KEY}, "https://*.tianditu.gov.cn", "cva_w"),
        ({"BASEMAP": "osm"}, "https://tile.openstreetmap.org", "tile.openstreetmap.org"),
        ({"BASEMAP": "amap"}, "https://*.is.autonavi.com", "autonavi.com/appmaptile"),
        (
            {"BASEMAP": "custom", "TILE_URL": "https://tiles.gov.example/{z}/{x}/{y}.png"},
            "https://tiles.gov.example",
            "tiles.gov.example",
        ),
    ],
)
def test_the_csp_lists_the_configured_tile_host(
    app, client, login_as, small_county, monkeypatch, config, host, in_script
):
    for name, value in config.items():
        monkeypatch.setitem(app.config, name, value)
    login_as("member")
    page = client.get("/")
    assert page.status_code == 200
    assert host in img_src(page)
    assert in_script in page.text


def test_with_no_base_map_the_csp_allows_only_ourselves(client, login_as, small_county):
    login_as("member")
    page = client.get("/")
    assert img_src(page) == ["'self'", "data:", "blob:"]
    assert "L.tileLayer" not in page.text


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("osm", "https://tile.openstreetmap.org"),
        ({"kind": "amap"}, "https://*.is.autonavi.com"),
        (
            {"kind": "tianditu", "tianditu_key": KEY, "tile_url": "", "attribution": ""},
            "https://*.tianditu.gov.cn",
        ),
        (
            {"kind": "custom", "tile_url": "https://gis.county.example/t/{z}/{x}/{y}.png"},
            "https://gis.county.example",
        ),
    ],
)
def test_the_admins_setting_overrides_the_environment(client, login_as, small_county, value, host):
    db.session.add(Setting(key="basemap", value=value))
    db.session.commit()
    login_as("member")
    page = client.get("/")
    assert host in img_src(page)
    # pages that draw no map keep the plain policy
    static = client.get("/static/css/map.css")
    assert host not in img_src(static)
    static.close()


def test_the_admin_is_told_when_the_setting_cannot_be_used(client, login_as, small_county):
    db.session.add(Setting(key="basemap", value={"kind": "tianditu"}))
    db.session.commit()
    login_as("admin")
    assert "天地图需要密钥" in client.get("/").text
    login_as("member")
    assert "天地图需要密钥" not in client.get("/").text


# --- GCJ-02 ----------------------------------------------------------------------------
CHINA_POINTS = [
    (104.6, 30.1),  # the demo county, Sichuan
    (116.397, 39.909),  # Beijing
    (121.47, 31.23),  # Shanghai
    (87.6, 43.8),  # Urumqi
    (126.6, 45.75),  # Harbin
    (110.35, 20.02),  # Haikou
    (91.1, 29.65),  # Lhasa
]


@pytest.mark.parametrize(("lon", "lat"), CHINA_POINTS)
def test_gcj02_round_trip_is_under_a_metre(lon, lat):
    shifted = wgs_to_gcj(lon, lat)
    # AMap's tiles really are off: a shift of a few hundred metres
    assert 100 < distance_m((lon, lat), shifted) < 1000
    back = gcj_to_wgs(*shifted)
    assert distance_m((lon, lat), back) < 1.0


def test_gcj02_round_trip_over_a_grid_of_the_county():
    worst = 0.0
    for i in range(21):
        for j in range(21):
            lon, lat = 104.4 + i * 0.025, 29.9 + j * 0.02
            worst = max(worst, distance_m((lon, lat), gcj_to_wgs(*wgs_to_gcj(lon, lat))))
    assert worst < 1.0


def test_outside_china_nothing_is_shifted():
    assert not in_china(2.35, 48.85)
    assert wgs_to_gcj(2.35, 48.85) == (2.35, 48.85)
    assert gcj_to_wgs(2.35, 48.85) == (2.35, 48.85)


# --- the other map pages follow the admin's choice (WGS-84 drawings) -------------------------
CUSTOM = "https://gis.county.example/t/{z}/{x}/{y}.png"
FOLIUM_PAGES = ["/coverage", "/places?lon=104.03&lat=30.05"]


@pytest.mark.parametrize("path", FOLIUM_PAGES)
def test_folium_pages_draw_on_the_admins_base_map(client, login_as, small_county, path):
    db.session.add(Setting(key="basemap", value={"kind": "custom", "tile_url": CUSTOM}))
    db.session.commit()
    login_as("leader")
    page = client.get(path)
    assert page.status_code == 200
    assert CUSTOM in page.text and "https://gis.county.example" in img_src(page)


@pytest.mark.parametrize("path", FOLIUM_PAGES)
def test_folium_pages_never_put_wgs84_points_on_gcj02_tiles(client, login_as, small_county, path):
    # AMap is GCJ-02: these pages draw in WGS-84, so they keep the environment's (none here)
    db.session.add(Setting(key="basemap", value={"kind": "amap"}))
    db.session.commit()
    login_as("leader")
    page = client.get(path)
    assert page.status_code == 200
    assert "autonavi" not in page.text
    assert basemap.build("amap").gcj02  # the main map shifts instead (tests/e2e/test_map.py)
