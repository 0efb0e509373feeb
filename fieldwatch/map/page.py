"""The main map page (`main.index`): folium's skeleton plus the settings our JS needs.

Nothing of the county's data is in the page: `static/js/map-live.js` fetches
every layer for the view from `/api/v1/map/layers/...` (or `/tiles/...`), so
the HTML stays the same size for 300 problems or a million.
"""

from __future__ import annotations

from flask import current_app, g, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fieldwatch import clock
from fieldwatch.issues.present import STATUS_LABELS
from fieldwatch.map import builders, queries
from fieldwatch.map.basemap import current_basemap

#: from this zoom on, a click shows the place's history within this many metres
HISTORY_RADIUS_M = 200


def _layers(tiles: bool) -> list[dict]:
    """Describe the live layers, in drawing order (later ones on top)."""
    api = url_for("map_api.layer_in_view", layer="LAYER").replace("LAYER", "{layer}")
    tile_url = url_for("tiles.tile", layer="LAYER", z="Z", x="X", y="Y")
    tile_url = tile_url.replace("LAYER", "{layer}").replace("/Z/X/Y.", "/{z}/{x}/{y}.")

    def layer(name: str, label: str, on: bool, source: str = "geojson", min_zoom: int = 0):
        url = (tile_url if source == "tiles" else api).replace("{layer}", name)
        return {
            "id": name,
            "label": label,
            "on": on,
            "source": source,
            "url": url,
            "min_zoom": min_zoom,
        }

    return [
        layer("townships", _("乡镇(街道)与覆盖"), True),
        # hundreds of polygons: tiles where the base map is Web Mercator WGS-84
        layer(
            "villages",
            _("村(社区)"),
            False,
            "tiles" if tiles else "geojson",
            queries.VILLAGE_MIN_ZOOM,
        ),
        layer("visits", _("走访(计划/已开展)"), True),
        layer("stations", _("协商工作站"), True),
        layer("followups", _("回头看"), False),
        layer("issues", _("问题"), True),
    ]


def _strings() -> dict:
    return {
        "loading": _("正在加载…"),
        "load_failed": _("图层加载失败，请稍后重试。"),
        "zoom_in": _("放大地图可看到全部"),
        "places_history": _("这里的历史记录"),
        "search": _("搜索地点或问题编号"),
        "search_button": _("搜索"),
        "no_results": _("没有找到。试试乡镇、村名、站点名或问题编号(如 FW-2026-000123)。"),
        "my_location": _("我的位置"),
        "locating": _("正在定位…"),
        "locate_failed": _("无法获取位置：请允许定位，并通过 HTTPS 访问。"),
        "accuracy": _("精度约 %(m)s 米", m="{m}"),
        "legend": _("图例"),
        "coverage": _("覆盖率"),
        "no_villages": _("无村(社区)数据"),
        "covered": _("有站点服务"),
        "uncovered": _("无站点服务"),
        "has_platform": _("有镇街平台"),
        "no_platform": _("无镇街平台"),
        "overdue": _("超期未办结"),
        "reopened": _("回头看后重办"),
        "cluster": _("%(n)s 个，点击放大", n="{n}"),
        "township_count": _("%(name)s：%(n)s 个", name="{name}", n="{n}"),
        "station": _("协商工作站"),
        "station_closed": _("已撤销的站点"),
        "five_haves": _("五有达标 %(n)s/5", n="{n}"),
        "visit_planned": _("计划走访"),
        "visit_held": _("已开展走访"),
        "stops": _("%(n)s 个点位", n="{n}"),
        "followup_due": _("回头看：待办"),
        "followup_overdue": _("回头看：已超期"),
        "followup_done": _("回头看：已完成"),
        "days_overdue": _("超期 %(n)s 天", n="{n}"),
        "due_on": _("期限 %(d)s", d="{d}"),
        "details": _("查看详情"),
        "here": _("此处"),
        "statuses": {k: str(v) for k, v in STATUS_LABELS.items()},
        "findings": {
            "solved": _("已解决"),
            "partly": _("部分解决"),
            "unsolved": _("未解决"),
            "regressed": _("出现反复"),
        },
        "kinds": {
            "township": _("乡镇(街道)"),
            "village": _("村(社区)"),
            "station": _("站点"),
            "issue": _("问题"),
        },
    }


def main_map_context() -> dict:
    """Return what `main/index.html` needs: the map's parts and our JS's settings."""
    basemap = current_basemap()
    bounds = queries.initial_extent(getattr(current_user, "township_id", None))
    labels = {"fullscreen": _("全屏"), "exit_fullscreen": _("退出全屏")}
    m = builders.main_map(basemap, bounds, labels)
    parts = builders.embed(m, url_for("static", filename=""), getattr(g, "csp_nonce", ""))
    # villages as tiles where tiles line up with the base map; AMap needs shifted GeoJSON
    config = {
        "map": parts.name,
        "basemap": basemap.kind,
        "gcj02": basemap.gcj02,
        "layers": _layers(tiles=not basemap.gcj02),
        "search_url": url_for("map_api.search"),
        "history_url": "/places",
        "history_radius_m": HISTORY_RADIUS_M,
        "pages": {"issue": "/issues/{id}", "visit": "/visits/{id}", "station": "/stations/{id}"},
        "today": clock.today().isoformat(),
        "storage_key": f"fw.map.{current_user.id}",
        "strings": _strings(),
    }
    problem = basemap.problem if current_user.role == "admin" else None
    return {
        "map_parts": parts,
        "map_config": config,
        "has_places": bounds is not None,
        "basemap_problem": problem,
        "links": {"basemap": _url("admin.basemap"), "import": _url("areas.import")},
    }


def _url(endpoint: str) -> str | None:
    """Return the URL of another area's page, or None while that area is not installed."""
    return url_for(endpoint) if endpoint in current_app.view_functions else None
