"""Writes on the admin-kept lists: categories, units, the base-map setting. Every change audited."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from fieldwatch.auth.services import audit
from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db
from fieldwatch.models import Area, Category, Setting, Unit

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
BASEMAP_KINDS = ("none", "tianditu", "osm", "amap", "custom")
#: a 天地图 browser key is 32 hex digits
TIANDITU_KEY = re.compile(r"^[0-9a-fA-F]{32}$")


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors)


def _check_code(model, code: str, errors: dict, current_id: int | None = None) -> str:
    code = (code or "").strip()
    if not CODE.match(code):
        errors["code"] = ["编码用小写字母、数字、- 或 _，最多 40 位 (a-z, 0-9, - or _)"]
        return code
    taken = db.session.scalar(select(model.id).where(model.code == code))
    if taken is not None and taken != current_id:
        errors["code"] = [f"编码 {code} 已存在 (code taken)"]
    return code


def _int_in(value, field: str, low: int, high: int, errors: dict) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = ["必须是整数 (a whole number)"]
        return None
    if not low <= number <= high:
        errors[field] = [f"范围 {low}–{high} (between {low} and {high})"]
        return None
    return number


def _diff(obj, wanted: dict) -> dict:
    return {
        key: [getattr(obj, key), value]
        for key, value in wanted.items()
        if getattr(obj, key) != value
    }


def save_category(
    category: Category | None,
    *,
    code: str,
    name: str,
    name_en: str | None,
    deadline_days,
    lookback_days,
    duplicate_radius_m,
    active: bool,
    actor=None,
) -> Category:
    """Create (category None) or change a problem category; flush and audit."""
    errors: dict[str, list[str]] = {}
    code = _check_code(Category, code, errors, category.id if category else None)
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ["请填写名称，最多 100 字 (name required)"]
    wanted = {
        "code": code,
        "name": name,
        "name_en": (name_en or "").strip() or None,
        "deadline_days": _int_in(deadline_days, "deadline_days", 1, 365, errors),
        "lookback_days": _int_in(lookback_days, "lookback_days", 1, 365, errors),
        "duplicate_radius_m": _int_in(duplicate_radius_m, "duplicate_radius_m", 0, 2000, errors),
        "active": bool(active),
    }
    _raise(errors)
    created = category is None
    if created:
        category = Category(**wanted)
        db.session.add(category)
        db.session.flush()
        audit("category.create", actor, "category", category.id, {"code": code, "name": name})
        return category
    changes = _diff(category, wanted)
    for key, (_, value) in changes.items():
        setattr(category, key, value)
    if changes:
        db.session.flush()
        audit("category.update", actor, "category", category.id, {"changes": changes})
    return category


def save_unit(
    unit: Unit | None,
    *,
    code: str,
    name: str,
    name_en: str | None = None,
    township_code: str | None = None,
    active: bool = True,
    actor=None,
) -> Unit:
    """Create (unit None) or change a responsible department; flush and audit."""
    errors: dict[str, list[str]] = {}
    code = _check_code(Unit, code, errors, unit.id if unit else None)
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ["请填写名称，最多 100 字 (name required)"]
    township_id = None
    if township_code:
        township_id = db.session.scalar(
            select(Area.id).where(Area.code == township_code, Area.level == "township")
        )
        if township_id is None:
            errors["township"] = [f"没有编码为 {township_code} 的乡镇 (unknown township)"]
    _raise(errors)
    wanted = {
        "code": code,
        "name": name,
        "name_en": (name_en or "").strip() or None,
        "township_id": township_id,
        "active": bool(active),
    }
    if unit is None:
        unit = Unit(**wanted)
        db.session.add(unit)
        db.session.flush()
        audit("unit.create", actor, "unit", unit.id, {"code": code, "name": name})
        return unit
    changes = _diff(unit, wanted)
    for key, (_, value) in changes.items():
        setattr(unit, key, value)
    if changes:
        db.session.flush()
        audit("unit.update", actor, "unit", unit.id, {"changes": changes})
    return unit


def check_tile_url(url: str) -> str | None:
    """Return why a tile URL template is unusable, or None when it is fine."""
    if len(url) > 500:
        return "地址太长 (at most 500 characters)"
    if any(c.isspace() or c in "\"'<>\\" for c in url):
        return "地址不能含空格或引号 (no spaces or quotes)"
    parts = urlsplit(url.replace("{s}", "a"))
    if parts.scheme != "https" or not parts.hostname:
        # the site runs over HTTPS; browsers block or rewrite http:// tiles (mixed content)
        return "须以 https:// 开头并含主机名 (an https:// address with a host)"
    if parts.username or parts.password:
        return "地址不能含用户名或密码 (no credentials in the address)"
    if not all(p in url for p in ("{z}", "{x}")) or not ("{y}" in url or "{-y}" in url):
        return "须含 {z}、{x}、{y} 占位符 (needs {z}, {x} and {y})"
    return None


def basemap() -> dict:
    """Return the base-map setting as {kind, key, url, attribution}; kind "none" when unset.

    Stored as the map reads it (`fieldwatch.map.basemap`): {"kind", "tianditu_key",
    "tile_url", "attribution"}; the shorter {"kind", "key", "url"} is read too.
    """
    row = db.session.get(Setting, "basemap")
    value = row.value if row is not None else {}
    if isinstance(value, str):
        value = {"kind": value}
    if not isinstance(value, dict):
        value = {}
    return {
        "kind": value.get("kind") or "none",
        "key": value.get("tianditu_key") or value.get("key") or "",
        "url": value.get("tile_url") or value.get("url") or "",
        "attribution": value.get("attribution") or "",
    }


def save_basemap(
    kind: str, key: str | None, url: str | None, attribution: str | None = None, actor=None
) -> dict:
    """Check and store the tile source every map uses (Setting "basemap"); audit the change.

    Tianditu needs a key (here or in FIELDWATCH_TIANDITU_KEY); a custom source needs
    an https tile URL with {z}/{x}/{y}. OpenStreetMap and AMap use their public tiles.
    """
    errors: dict[str, list[str]] = {}
    key = (key or "").strip()
    url = (url or "").strip()
    attribution = (attribution or "").strip()
    if kind not in BASEMAP_KINDS:
        errors["kind"] = [f"可选: {', '.join(BASEMAP_KINDS)}"]
    if kind == "tianditu":
        if key and not TIANDITU_KEY.match(key):
            errors["key"] = ["天地图密钥是 32 位十六进制字符 (a 32-hex-digit Tianditu key)"]
        elif not key and not current_app.config.get("TIANDITU_KEY"):
            errors["key"] = ["请填写天地图密钥 (Tianditu needs a key)"]
    if kind == "custom":
        problem = check_tile_url(url) if url else "请填写瓦片地址 (tile URL required)"
        if problem:
            errors["url"] = [problem]
        if len(attribution) > 200 or any(c in attribution for c in "<>\"'"):
            errors["attribution"] = ["最多 200 字，不含 < > 引号 (plain text, at most 200)"]
    _raise(errors)
    value = {
        "kind": kind,
        "tianditu_key": key if kind == "tianditu" else "",
        "tile_url": url if kind == "custom" else "",
        "attribution": attribution if kind == "custom" else "",
    }
    before = basemap()
    row = db.session.get(Setting, "basemap")
    if row is None:
        db.session.add(Setting(key="basemap", value=value))
    else:
        row.value = value
    db.session.flush()
    after = basemap()
    if before != after:
        shown = {k: ("***" if k == "key" and v else v) for k, v in after.items()}
        audit("setting.basemap", actor, "setting", "basemap", {"from": before["kind"], **shown})
    return after
