"""folium maps load every script and stylesheet from static/, never from a CDN."""

import re
from html.parser import HTMLParser
from pathlib import Path

import folium
import pytest
from branca.element import JavascriptLink, MacroElement
from folium import plugins

from fieldwatch.map.assets import CDN_TO_LOCAL, localize

STATIC = Path(__file__).resolve().parents[2] / "static"
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)""")


class _AssetRefs(HTMLParser):
    """Collect the src of <script> and the href of <link> tags."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def _asset_urls(html: str) -> list[str]:
    parser = _AssetRefs()
    parser.feed(html)
    return parser.urls


def _planner_map() -> folium.Map:
    m = folium.Map(location=[30.66, 104.06], zoom_start=12)
    cluster = plugins.MarkerCluster().add_to(m)
    folium.Marker([30.66, 104.06], icon=folium.Icon(color="red", icon="info-sign")).add_to(cluster)
    folium.Marker(
        [30.67, 104.07], icon=folium.Icon(color="green", icon="flag", prefix="fa", angle=45)
    ).add_to(m)
    folium.GeoJson(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "area"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [[104.0, 30.6], [104.1, 30.6], [104.1, 30.7], [104.0, 30.6]]
                        ],
                    },
                }
            ],
        },
        name="areas",
    ).add_to(m)
    plugins.Fullscreen().add_to(m)
    plugins.Draw().add_to(m)
    return m


def test_rendered_map_loads_assets_only_from_static():
    m = _planner_map()
    localize(m)
    urls = _asset_urls(m.get_root().render())

    assert urls, "expected <script src> and <link href> tags in the page"
    remote = [u for u in urls if re.match(r"(https?:)?//", u, re.IGNORECASE)]
    assert remote == []
    local = [u for u in urls if u.startswith("/static/")]
    assert sorted(local) == sorted(urls)
    missing = [u for u in local if not (STATIC / u.removeprefix("/static/")).is_file()]
    assert missing == []
    assert "/static/vendor/leaflet-draw/leaflet.draw.js" in urls
    assert "/static/vendor/leaflet.fullscreen/Control.FullScreen.js" in urls


def test_localize_leaves_class_defaults_alone():
    m = folium.Map()
    localize(m, static_url="/assets")

    assert m.default_js[0] == ("leaflet", "/assets/vendor/leaflet/leaflet.js")
    assert folium.Map.default_js[0][1].startswith("https://")


def test_localize_rejects_an_unknown_cdn_url():
    class NewPlugin(MacroElement):
        default_js = [("newplugin", "https://cdn.example.com/new-plugin.js")]

    m = folium.Map()
    NewPlugin().add_to(m)

    with pytest.raises(ValueError, match="no local copy of https://cdn.example.com/new-plugin.js"):
        localize(m)


def test_localize_rejects_an_unknown_link_in_the_page_header():
    m = folium.Map()
    m.get_root().header.add_child(JavascriptLink("//cdn.example.com/x.js"))

    with pytest.raises(ValueError, match="no local copy of //cdn.example.com/x.js"):
        localize(m.get_root())


def test_every_local_copy_exists():
    missing = [path for path in CDN_TO_LOCAL.values() if not (STATIC / path).is_file()]
    assert missing == []


def test_vendored_css_references_only_files_that_exist():
    broken = []
    for css in sorted((STATIC / "vendor").rglob("*.css")):
        for ref in CSS_URL.findall(css.read_text(encoding="utf-8")):
            if ref.startswith(("data:", "#")):
                continue
            target = (css.parent / ref.split("?")[0].split("#")[0]).resolve()
            if re.match(r"(https?:)?//", ref) or not target.is_file():
                broken.append(f"{css.relative_to(STATIC)}: {ref}")
    assert broken == []
