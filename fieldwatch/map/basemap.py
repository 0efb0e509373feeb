"""Which base map the maps draw on: none, Tianditu, OpenStreetMap, AMap or our own tile server.

The choice comes from FIELDWATCH_BASEMAP (+ FIELDWATCH_TIANDITU_KEY,
FIELDWATCH_TILE_URL), and an admin may override it in the browser: the
`settings` row `basemap` holds either a kind (``"amap"``) or an object
``{"kind": ..., "tianditu_key": ..., "tile_url": ..., "attribution": ...}``
(written by the admin's base-map page); missing keys fall back to the environment. With nothing configured the map has
no base tiles at all (boundaries only), which is what an intranet with no
internet needs; a Tianditu key alone makes Tianditu the default.

AMap's tiles are in GCJ-02 (see `fieldwatch.map.gcj`): the browser shifts what
it draws there and shifts clicks back, so stored coordinates stay WGS-84.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import current_app, g
from markupsafe import escape

log = logging.getLogger(__name__)

KINDS = ("none", "tianditu", "osm", "amap", "custom")

_TIANDITU = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)


@dataclass(frozen=True)
class TileSource:
    """One raster tile layer (Leaflet `L.tileLayer` options)."""

    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18
    #: labels drawn over the base (Tianditu's cva)
    overlay: bool = False


@dataclass(frozen=True)
class Basemap:
    """The resolved base map: its kind, tile layers and coordinate system."""

    kind: str
    layers: tuple[TileSource, ...] = ()
    #: tiles are in GCJ-02 (AMap): shift what we draw, shift clicks back
    gcj02: bool = False
    #: why the configured choice could not be used (shown to admins)
    problem: str | None = None
    hosts: tuple[str, ...] = field(default=())


def _origin(url: str) -> str | None:
    """Return the CSP source for a tile URL template (subdomains as a wildcard)."""
    if not url.startswith(("http://", "https://")):
        return None
    parts = urlsplit(url.replace("{s}", "__s__"))
    host = parts.netloc
    if "__s__" in host:
        # t{s}.tianditu.gov.cn, webrd0{s}.is.autonavi.com, {s}.tile.example
        head, _, rest = host.partition(".")
        host = ("*." + rest) if "__s__" in head else host.replace("__s__", "*")
    return f"{parts.scheme}://{host}"


def build(kind: str | None, tianditu_key: str = "", tile_url: str = "", attribution: str = ""):
    """Return the Basemap for a kind and its settings (an unusable choice falls back to none)."""
    kind = (kind or "").strip().lower()
    if not kind:
        kind = "tianditu" if tianditu_key else ("custom" if tile_url else "none")
    if kind not in KINDS:
        return Basemap("none", problem=f"未知底图 {kind!r} (unknown base map)")
    if kind == "tianditu":
        if not tianditu_key:
            return Basemap("none", problem="天地图需要密钥 FIELDWATCH_TIANDITU_KEY (key missing)")
        layers = tuple(
            TileSource(
                _TIANDITU.format(layer=layer, key=tianditu_key),
                "&copy; 天地图 tianditu.gov.cn",
                subdomains="01234567",
                overlay=(layer == "cva"),
            )
            for layer in ("vec", "cva")
        )
    elif kind == "osm":
        layers = (
            TileSource(
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "&copy; OpenStreetMap contributors",
                subdomains="",
                max_zoom=19,
            ),
        )
    elif kind == "amap":
        layers = (
            TileSource(
                "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
                "&x={x}&y={y}&z={z}",
                "&copy; 高德地图 AutoNavi",
                subdomains="1234",
            ),
        )
    elif kind == "custom":
        if not tile_url:
            return Basemap("none", problem="自定义底图需要 FIELDWATCH_TILE_URL (tile URL missing)")
        # Leaflet shows attributions as HTML: an admin's text goes in as text
        layers = (TileSource(tile_url, str(escape(attribution or "")), max_zoom=20),)
    else:
        layers = ()
    hosts = tuple(dict.fromkeys(h for h in (_origin(s.url) for s in layers) if h))
    return Basemap(kind, layers, gcj02=(kind == "amap"), hosts=hosts)


def from_config(config=None) -> Basemap:
    """Return the base map the environment configures (no database)."""
    config = config if config is not None else current_app.config
    return build(
        config.get("BASEMAP"),
        config.get("TIANDITU_KEY") or "",
        config.get("TILE_URL") or "",
    )


def current_basemap() -> Basemap:
    """Return the base map in force: the admin's `basemap` setting, else the environment.

    Cached on `g` for the request; `fieldwatch.security.tile_hosts` adds its
    tile host to the page's CSP.
    """
    cached = getattr(g, "basemap", None)
    if cached is not None:
        return cached
    config = current_app.config
    chosen = from_config(config)
    value = _setting_value()
    if isinstance(value, str):
        value = {"kind": value}
    if isinstance(value, dict) and value.get("kind"):
        chosen = build(
            str(value.get("kind")),
            str(value.get("tianditu_key") or value.get("key") or config.get("TIANDITU_KEY") or ""),
            str(value.get("tile_url") or value.get("url") or config.get("TILE_URL") or ""),
            str(value.get("attribution") or ""),
        )
    g.basemap = chosen
    return chosen


def wgs84_basemap() -> Basemap:
    """Return the base map for pages whose drawings are in WGS-84 (folium maps).

    The admin's choice, unless it is GCJ-02 (AMap): those pages do not shift what
    they draw, so they take the environment's base map, or none, rather than put
    every point some hundreds of metres off.
    """
    chosen = current_basemap()
    if not chosen.gcj02:
        return chosen
    fallback = from_config()
    return fallback if not fallback.gcj02 else build("none", "", "")


def _setting_value():
    """Read the admin's `basemap` setting (None when unset or unreadable)."""
    from fieldwatch.extensions import db
    from fieldwatch.models import Setting

    try:
        row = db.session.get(Setting, "basemap")
    except Exception:  # noqa: BLE001  a broken setting must not take the map down
        log.exception("could not read the basemap setting")
        db.session.rollback()
        return None
    return row.value if row is not None else None
