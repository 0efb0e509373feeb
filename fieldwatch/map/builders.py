"""Folium maps for our pages, and how a page embeds one.

Each builder returns a `folium.Map`; `embed(m, static_url, nonce)` turns it into the
three pieces a Jinja page places: `header` (scripts and stylesheets, all from
`static/`), `html` (the map's div) and `script` (the map's own code, nonce'd for the
CSP). Builders take plain data (GeoJSON dicts, numbers), never a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import folium
from branca.element import CssLink, JavascriptLink, MacroElement
from jinja2 import Template
from markupsafe import Markup, escape

from fieldwatch.map.assets import localize

#: stylesheets and scripts base.html already loads (folium would load them again)
PAGE_ASSETS = (
    "vendor/bootstrap/css/bootstrap.min.css",
    "vendor/bootstrap/js/bootstrap.bundle.min.js",
    "vendor/fontawesome-free/css/all.min.css",
)
_BARE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)")

#: coverage % bands, low to high: (lower bound, colour); 100 % has its own colour. Finer
#: near the top, where counties aiming at full coverage (全覆盖) mostly are.
COVERAGE_BANDS = (
    (0, "#d73027"), (50, "#fc8d59"), (75, "#fee08b"), (90, "#d9ef8b"), (95, "#91cf60"),
)  # fmt: skip
FULL_COLOUR = "#1a9850"
NO_DATA_COLOUR = "#bdbdbd"
COVERED_COLOUR, UNCOVERED_COLOUR = "#1a9850", "#d73027"


@dataclass(frozen=True)
class MapParts:
    """A map ready for a page: `name` is its JS variable and the id of its div."""

    name: str
    header: Markup
    html: Markup
    script: Markup


def base_map(
    bounds: tuple[float, float, float, float] | None = None,
    centre: tuple[float, float] = (104.06, 30.66),
    zoom: int = 12,
    basemap=None,
    max_zoom: int = 18,
) -> folium.Map:
    """Return an empty map: fitted to `bounds` (lon/lat box) or at `centre` (lon, lat).

    Without `basemap` (a `fieldwatch.map.basemap.Basemap`, WGS-84: the pages that
    draw with folium take `basemap.wgs84_basemap()`) there is no base layer at all,
    so nothing is fetched from outside.
    """
    m = folium.Map(
        location=[centre[1], centre[0]],
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
        max_zoom=max_zoom,
    )
    if basemap is not None:
        add_basemap(m, basemap)
    if bounds is not None:
        x0, y0, x1, y1 = bounds
        m.fit_bounds([[y0, x0], [y1, x1]], padding=(8, 8))
    return m


def embed(m: folium.Map, static_url: str = "/static/", nonce: str = "") -> MapParts:
    """Render `m` for a page: local assets only, no page-wide styles, nonce on every script."""
    root = m.get_root()
    localize(root, static_url)
    root.render()
    localize(root, static_url)  # links added while rendering
    base = static_url.rstrip("/") + "/"
    skip = {base + path for path in PAGE_ASSETS}
    name = m.get_name()
    header: list[str] = []
    for key, child in root.header._children.items():
        if isinstance(child, JavascriptLink | CssLink):
            if child.url not in skip:
                header.append(child.render())
        elif key == name:
            # folium's own block sets html/body to 100% and a fixed viewport: not on our pages
            header.append(f"<style>#{name}{{position:relative;width:100%;height:100%;}}</style>")
            header.append(
                f'<script nonce="{nonce}">L_NO_TOUCH = false; L_DISABLE_3D = false;</script>'
            )
        elif key != "meta_http":
            header.append(child.render())
    return MapParts(
        name=name,
        header=Markup(_with_nonce("\n".join(header), nonce)),
        html=Markup(_with_nonce(root.html.render(), nonce)),
        script=Markup(f'<script nonce="{nonce}">{root.script.render()}</script>'),
    )


def _with_nonce(html: str, nonce: str) -> str:
    return _BARE_SCRIPT.sub(f'<script nonce="{nonce}"', html)


class Legend(MacroElement):
    """A small legend in a map corner: rows of (colour, label)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "fw-legend");
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, rows: list[tuple[str, str]], position: str = "bottomright"):
        super().__init__()
        self._name = "Legend"
        self.position = position
        items = "".join(
            f'<div><i style="background:{colour}"></i>{escape(label)}</div>'
            for colour, label in rows
        )
        self.html = f"<strong>{escape(title)}</strong>{items}"


def coverage_colour(pct: float | None) -> str:
    """Return the choropleth colour of a coverage % (grey for a township with no villages)."""
    if pct is None:
        return NO_DATA_COLOUR
    if pct >= 100:
        return FULL_COLOUR
    colour = COVERAGE_BANDS[0][1]
    for lower, band in COVERAGE_BANDS:
        if pct >= lower:
            colour = band
    return colour


def coverage_map(
    townships: dict,
    bounds: tuple[float, float, float, float] | None,
    labels: dict[str, str],
    basemap=None,
) -> folium.Map:
    """Return the coverage choropleth: townships coloured by `properties.coverage_pct`.

    `townships` is a FeatureCollection whose properties hold `code`, `name`,
    `coverage_pct` (None without villages) and `label` (the tooltip text). The
    village layer is not inlined: `static/js/coverage-map.js` fetches it for the view.
    `labels` gives the legend's words: title, full (100 %), none (no villages).
    """
    m = base_map(bounds, basemap=basemap)

    def style(feature):
        pct = feature["properties"].get("coverage_pct")
        return {
            "fillColor": coverage_colour(pct),
            "color": "#444",
            "weight": 1.5,
            "fillOpacity": 0.55,
        }

    layer = folium.GeoJson(
        townships,
        name="townships",
        style_function=style,
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
    ).add_to(m)
    #: the JS name of the township layer (the village layer script dims it)
    m.township_layer_name = layer.get_name()
    rows = [(FULL_COLOUR, labels["full"])]
    rows += [(colour, f"≥ {lower}%") for lower, colour in reversed(COVERAGE_BANDS)]
    rows += [(NO_DATA_COLOUR, labels["none"])]
    Legend(labels["title"], rows).add_to(m)
    return m


def station_map(
    lon: float,
    lat: float,
    label: str,
    served: dict | None = None,
    basemap=None,
) -> folium.Map:
    """Return a small map of one station and the villages it serves (a FeatureCollection)."""
    m = base_map(centre=(lon, lat), zoom=14, basemap=basemap)
    if served and served.get("features"):
        layer = folium.GeoJson(
            served,
            name="served",
            style_function=lambda f: {
                "color": COVERED_COLOUR,
                "weight": 1.5,
                "fillOpacity": 0.2,
            },
            marker=folium.CircleMarker(radius=6, fill=True, fill_opacity=0.6),
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(m)
        m.fit_bounds(layer.get_bounds(), padding=(16, 16), max_zoom=15)
    folium.Marker(
        [lat, lon], tooltip=label, icon=folium.Icon(color="red", icon="flag", prefix="fa")
    ).add_to(m)
    return m


#: marker colours of station tiers on the register's map
TIER_COLOURS = {"county": "#6f42c1", "township": "#0d6efd", "village": "#198754"}


def stations_map(stations: list[dict], basemap=None) -> folium.Map:
    """Return a map of a page of stations: dicts with lon, lat, name, url, tier, open.

    Closed stations are hollow; a click opens a popup linking to the station.
    """
    lons = [s["lon"] for s in stations]
    lats = [s["lat"] for s in stations]
    pad = 0.005  # about 500 m, so that one station does not zoom in to the last level
    bounds = (min(lons) - pad, min(lats) - pad, max(lons) + pad, max(lats) + pad)
    m = base_map(bounds, basemap=basemap)
    for s in stations:
        colour = TIER_COLOURS.get(s["tier"], "#198754")
        link = f'<a href="{escape(s["url"])}">{escape(s["name"])}</a>'
        folium.CircleMarker(
            [s["lat"], s["lon"]],
            radius=7 if s["tier"] == "village" else 9,
            color=colour,
            weight=2,
            fill=True,
            fill_color=colour,
            fill_opacity=0.75 if s["open"] else 0.0,
            tooltip=s["name"],
            popup=folium.Popup(link, max_width=260),
        ).add_to(m)
    return m


def pin_map(
    lon: float | None,
    lat: float | None,
    bounds: tuple[float, float, float, float] | None,
    basemap=None,
    outlines: dict | None = None,
) -> folium.Map:
    """Return the map on which a form's point is placed (`static/js/pin-picker.js` adds the pin).

    `outlines` (a FeatureCollection of township boundaries) helps to find the place
    when there is no base layer.
    """
    if lon is not None and lat is not None:
        m = base_map(centre=(lon, lat), zoom=15, basemap=basemap)
    else:
        m = base_map(bounds, basemap=basemap)
    if outlines and outlines.get("features"):
        folium.GeoJson(
            outlines,
            name="outlines",
            style_function=lambda f: {"color": "#0d6efd", "weight": 1, "fillOpacity": 0.03},
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(m)
    return m


__all__ = [
    "Legend",
    "MapParts",
    "base_map",
    "coverage_colour",
    "coverage_map",
    "embed",
    "pin_map",
    "stations_map",
    "station_map",
]


# --- look-back (回头看) maps: the board, the record page, a place's history -------------
WATCH_OVERDUE, WATCH_REOPENED, WATCH_BOTH = "#d73027", "#fd7e14", "#7b1fa2"
ONSITE_COLOUR, PLACE_COLOUR = "#198754", "#0d6efd"


def _point_layer(features: list[dict], name: str, tooltip_field: str = "tooltip") -> folium.GeoJson:
    """One GeoJSON layer of circle markers; each feature's `colour` styles it.

    `popup` (already escaped HTML, e.g. a link) opens on click.
    """
    collection = {"type": "FeatureCollection", "features": features}
    return folium.GeoJson(
        collection,
        name=name,
        marker=folium.CircleMarker(radius=7, weight=2, fill=True, fill_opacity=0.8),
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "fillColor": f["properties"]["colour"],
        },
        tooltip=folium.GeoJsonTooltip(fields=[tooltip_field], labels=False),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False),
    )


def _feature(lon: float, lat: float, **properties) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


def watch_map(
    problems: list[dict], labels: dict, basemap=None, outlines: dict | None = None
) -> folium.Map:
    """Return the board's map of open problems overdue or reopened by a look-back.

    `problems`: dicts with `lon`, `lat`, `overdue`, `reopened`, `tooltip` (text) and
    `popup` (escaped HTML). `labels`: title, overdue, reopened, both. `outlines` (a
    FeatureCollection of township boundaries with `name`) shows where they are when
    there is no base layer.
    """
    features = []
    for p in problems:
        colour = (
            WATCH_BOTH
            if p["overdue"] and p["reopened"]
            else (WATCH_OVERDUE if p["overdue"] else WATCH_REOPENED)
        )
        features.append(
            _feature(p["lon"], p["lat"], colour=colour, tooltip=p["tooltip"], popup=p["popup"])
        )
    bounds = None
    if features:
        xs = [f["geometry"]["coordinates"][0] for f in features]
        ys = [f["geometry"]["coordinates"][1] for f in features]
        pad = 0.005
        bounds = (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)
    m = base_map(bounds, basemap=basemap)
    if outlines and outlines.get("features"):
        layer = folium.GeoJson(
            outlines,
            name="townships",
            style_function=lambda f: {"color": "#6c757d", "weight": 1, "fillOpacity": 0.02},
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(m)
        if not features:
            m.fit_bounds(layer.get_bounds(), padding=(8, 8))
    if features:
        _point_layer(features, "problems").add_to(m)
    Legend(
        labels["title"],
        [
            (WATCH_OVERDUE, labels["overdue"]),
            (WATCH_REOPENED, labels["reopened"]),
            (WATCH_BOTH, labels["both"]),
        ],
    ).add_to(m)
    return m


def lookback_map(
    lon: float,
    lat: float,
    label: str,
    onsite_m: float,
    basemap=None,
    recorded: tuple[float, float] | None = None,
    recorded_label: str = "",
) -> folium.Map:
    """Return the look-back page's map: the place to check and the on-site circle around it.

    While recording, `static/js/lookback-record.js` adds the inspector's live position;
    once recorded, `recorded` (lon, lat) marks where the inspector stood.
    """
    m = base_map(centre=(lon, lat), zoom=16, basemap=basemap)
    folium.Circle(
        [lat, lon], radius=onsite_m, color=ONSITE_COLOUR, weight=1, fill=True, fill_opacity=0.08
    ).add_to(m)
    folium.Marker(
        [lat, lon], tooltip=label, icon=folium.Icon(color="red", icon="flag", prefix="fa")
    ).add_to(m)
    if recorded is not None:
        folium.CircleMarker(
            [recorded[1], recorded[0]], radius=7, color="#fff", weight=2, fill=True,
            fill_color=PLACE_COLOUR, fill_opacity=1, tooltip=recorded_label,
        ).add_to(m)  # fmt: skip
        m.fit_bounds([[lat, lon], [recorded[1], recorded[0]]], padding=(24, 24), max_zoom=17)
    return m


def place_map(
    lon: float, lat: float, radius_m: float, items: list[dict], basemap=None
) -> folium.Map:
    """Return a place's map: the circle searched and what happened in it.

    `items`: dicts with `lon`, `lat`, `colour`, `tooltip` (text), `popup` (escaped HTML).
    """
    m = base_map(centre=(lon, lat), zoom=17 if radius_m <= 150 else 15, basemap=basemap)
    folium.Circle(
        [lat, lon], radius=radius_m, color=PLACE_COLOUR, weight=1, fill=True, fill_opacity=0.06
    ).add_to(m)
    features = [
        _feature(i["lon"], i["lat"], colour=i["colour"], tooltip=i["tooltip"], popup=i["popup"])
        for i in items
        if i.get("lon") is not None
    ]
    if features:
        _point_layer(features, "history").add_to(m)
    return m


__all__ += ["lookback_map", "place_map", "watch_map"]  # noqa: PLE0605


# --- the main map (/): base tiles and the first view; static/js/map-live.js adds the data ---
def add_basemap(m: folium.Map, basemap) -> folium.Map:
    """Add a `fieldwatch.map.basemap.Basemap`'s tile layers to `m` (kind none: nothing)."""
    for index, source in enumerate(basemap.layers):
        folium.TileLayer(
            tiles=source.url,
            attr=source.attribution or "&nbsp;",
            name=f"basemap{index}",
            subdomains=source.subdomains or "abc",
            max_zoom=source.max_zoom,
            max_native_zoom=source.max_zoom,
            overlay=source.overlay,
            control=False,
        ).add_to(m)
    return m


def main_map(basemap, bounds: tuple[float, float, float, float] | None, labels: dict) -> folium.Map:
    """Return the main map's skeleton: no data inlined, whatever the county's size.

    `bounds` (WGS-84) is the first view; on a GCJ-02 base map (AMap) it is shifted
    the way everything else drawn there is. `labels`: fullscreen, exit_fullscreen.
    """
    from folium import plugins

    from fieldwatch.map.gcj import wgs_to_gcj

    if bounds is not None and basemap.gcj02:
        west, south = wgs_to_gcj(bounds[0], bounds[1])
        east, north = wgs_to_gcj(bounds[2], bounds[3])
        bounds = (west, south, east, north)
    if bounds is None:
        m = base_map(centre=(105.0, 35.0), zoom=4)  # nothing imported yet: all of China
    else:
        m = base_map(bounds)
    # only Leaflet itself: no jQuery or awesome-markers, our JS draws its own markers
    m.default_js = [(name, url) for name, url in m.default_js if name == "leaflet"]
    m.default_css = [(name, url) for name, url in m.default_css if name == "leaflet_css"]
    add_basemap(m, basemap)
    plugins.Fullscreen(
        position="topleft", title=labels["fullscreen"], title_cancel=labels["exit_fullscreen"]
    ).add_to(m)
    return m


__all__ += ["add_basemap", "main_map"]


# --- visits (现场协商): the planner and a visit's numbered route ------------------------------
ROUTE_COLOUR, START_COLOUR = "#0d6efd", "#198754"


def _shift_geometry(geometry: dict, shift) -> dict:
    """Return a GeoJSON geometry with every position passed through `shift(lon, lat)`."""

    def walk(coords):
        if coords and isinstance(coords[0], int | float):
            return list(shift(coords[0], coords[1]))
        return [walk(c) for c in coords]

    return {**geometry, "coordinates": walk(geometry["coordinates"])}


def planner_map(
    basemap, bounds: tuple[float, float, float, float] | None, outlines: dict, labels: dict
) -> folium.Map:
    """Return the visit planner's skeleton: base map, township outlines and the draw tool.

    No problem is inlined: `static/js/visit-planner.js` fetches the candidates for the
    view from `/api/v1/visits/candidates`, draws the batches and the numbered route.
    `outlines` is a FeatureCollection (properties `name`); `labels`: fullscreen,
    exit_fullscreen. On a GCJ-02 base map (AMap) what is drawn here is shifted.
    """
    from folium import plugins

    from fieldwatch.map.gcj import wgs_to_gcj

    if basemap.gcj02:
        if bounds is not None:
            bounds = (*wgs_to_gcj(bounds[0], bounds[1]), *wgs_to_gcj(bounds[2], bounds[3]))
        outlines = {
            **outlines,
            "features": [
                {**f, "geometry": _shift_geometry(f["geometry"], wgs_to_gcj)}
                for f in outlines.get("features", [])
            ],
        }
    m = base_map(bounds) if bounds is not None else base_map(centre=(105.0, 35.0), zoom=4)
    add_basemap(m, basemap)
    if outlines.get("features"):
        folium.GeoJson(
            outlines,
            name="outlines",
            style_function=lambda f: {
                "color": "#6c757d",
                "weight": 1.2,
                "fillOpacity": 0.02,
                "interactive": False,
            },
        ).add_to(m)
    plugins.Draw(
        position="topleft",
        show_geometry_on_click=False,
        draw_options={
            "polyline": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
            "polygon": {"allowIntersection": False, "shapeOptions": {"color": "#fd7e14"}},
            "rectangle": {"shapeOptions": {"color": "#fd7e14"}},
        },
        edit_options={"edit": False, "remove": False},
    ).add_to(m)
    plugins.Fullscreen(
        position="topleft", title=labels["fullscreen"], title_cancel=labels["exit_fullscreen"]
    ).add_to(m)
    return m


def visit_route_map(
    stops: list[dict], start: dict | None, basemap=None, labels: dict | None = None
) -> folium.Map:
    """Return a visit's map: numbered stops joined in order from the start (≤ 30 points).

    `stops`: dicts with `lon`, `lat`, `number`, `title`; `start`: {lon, lat, label} or None.
    """
    from fieldwatch.map.gcj import wgs_to_gcj

    def at(lon, lat):
        x, y = wgs_to_gcj(lon, lat) if basemap is not None and basemap.gcj02 else (lon, lat)
        return [y, x]

    points = ([at(start["lon"], start["lat"])] if start else []) + [
        at(s["lon"], s["lat"]) for s in stops
    ]
    if points:
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        pad = 0.003
        m = base_map((min(lons) - pad, min(lats) - pad, max(lons) + pad, max(lats) + pad))
    else:
        m = base_map(centre=(105.0, 35.0), zoom=4)
    if basemap is not None:
        add_basemap(m, basemap)
    if len(points) > 1:
        folium.PolyLine(points, color=ROUTE_COLOUR, weight=4, opacity=0.8, dash_array="8 6").add_to(
            m
        )
    if start:
        folium.Marker(
            at(start["lon"], start["lat"]),
            tooltip=str(escape(start.get("label") or (labels or {}).get("start", "start"))),
            icon=folium.DivIcon(
                html='<div class="fw-stop-start"><i class="fa-solid fa-flag"></i></div>',
                icon_size=(26, 26),
                icon_anchor=(13, 13),
                class_name="fw-stop-icon",
            ),
        ).add_to(m)
    for stop in stops:
        folium.Marker(
            at(stop["lon"], stop["lat"]),
            tooltip=str(escape(f"{stop['number']}. {stop['title']}")),
            icon=folium.DivIcon(
                html=f'<div class="fw-stop-number">{int(stop["number"])}</div>',
                icon_size=(26, 26),
                icon_anchor=(13, 13),
                class_name="fw-stop-icon",
            ),
        ).add_to(m)
    return m


__all__ += ["planner_map", "visit_route_map"]
