"""The navigation: each area adds its entries; each user sees what the policy lets them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from fieldwatch import policy


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    action: str
    icon: str = ""
    order: int = 50


#: every entry; shown when its endpoint exists and the user may do its action
ITEMS: list[NavItem] = [
    NavItem("main.index", _l("地图"), "map.view", "fa-map-location-dot", 0),
    NavItem("todos.index", _l("我的待办"), "todos.view", "fa-list-check", 5),
    NavItem("issues.new", _l("上报问题"), "issues.report", "fa-camera", 10),
    NavItem("issues.index", _l("问题"), "issues.view", "fa-triangle-exclamation", 20),
    NavItem("followups.board", _l("回头看"), "followups.view", "fa-rotate-left", 30),
    NavItem("visits.index", _l("走访"), "visits.view", "fa-people-group", 40),
    NavItem("stations.index", _l("站点"), "stations.view", "fa-house-flag", 50),
    NavItem("coverage.index", _l("覆盖"), "coverage.view", "fa-chart-pie", 60),
    NavItem("admin.index", _l("管理"), "admin.users", "fa-gear", 90),
]


def add(item: NavItem) -> None:
    """Add an entry (areas call this in their `register`)."""
    if all(existing.endpoint != item.endpoint for existing in ITEMS):
        ITEMS.append(item)


def items_for(user) -> list[NavItem]:
    views = current_app.view_functions
    return sorted(
        (i for i in ITEMS if i.endpoint in views and policy.can(user, i.action)),
        key=lambda i: i.order,
    )
