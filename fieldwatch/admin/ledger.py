"""Import an existing problem ledger (台账) from .xlsx, through the same service as the phone form.

Three steps: `store_upload` keeps the file under the instance folder;
`read_sheet` finds the header row and the data rows, `guess_mapping` proposes
which column holds which field; `check_rows` reports every row's problems (row
number + field); `import_rows` reports them all through
`issues.services.report_issue` (source "import") in one transaction, or none.
A row's `client_id` is derived from the file's hash and row number, so
importing the same file again adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time as systime
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import prcoords
from flask import current_app
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select

from fieldwatch import clock
from fieldwatch.auth.services import audit
from fieldwatch.errors_core import FieldwatchError, NotFound, ValidationError
from fieldwatch.extensions import db
from fieldwatch.models import Area, Category

MAX_ROWS = 2000
MAX_BYTES = 10 * 1024 * 1024
KEEP_SECONDS = 24 * 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,40}$")

#: field -> (label, header words that suggest it)
FIELDS = {
    "title": ("标题", ("标题", "问题名称", "问题", "事项", "题目", "title")),
    "category": ("类别", ("类别", "分类", "类型", "问题类型", "category")),
    "description": (
        "描述",
        ("描述", "内容", "情况", "问题描述", "具体情况", "详情", "description"),
    ),
    "lon": ("经度", ("经度", "lon", "lng", "longitude", "x")),
    "lat": ("纬度", ("纬度", "lat", "latitude", "y")),
    "village_code": (
        "村/社区代码",
        ("村代码", "社区代码", "区划代码", "村居代码", "village_code", "代码"),
    ),
    "address": ("地址", ("地址", "地点", "位置", "具体位置", "address")),
    "reported_on": (
        "反映日期",
        ("反映日期", "日期", "时间", "上报时间", "反映时间", "发现时间", "date"),
    ),
    "contact_name": ("联系人", ("联系人", "反映人", "群众姓名", "contact")),
    "contact_phone": ("联系电话", ("联系电话", "电话", "手机", "phone")),
}
REQUIRED = ("title",)
CRS = {"wgs84": "WGS-84 (GPS)", "gcj02": "GCJ-02 (高德/腾讯)", "bd09": "BD-09 (百度)"}


@dataclass
class Sheet:
    headers: list[str]
    rows: list[tuple[int, list]]  # (Excel row number, cell values)
    header_row: int


@dataclass
class RowError:
    row: int
    field: str
    column: str
    message: str


@dataclass
class Checked:
    good: list[tuple[int, dict]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# --- keeping the upload between steps -----------------------------------------------
def _folder() -> Path:
    folder = Path(current_app.config["INSTANCE"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_upload(data: bytes, filename: str, user) -> str:
    """Keep an uploaded workbook for the next steps; return its token."""
    if len(data) > MAX_BYTES:
        raise ValidationError(
            "文件太大 (file too large)", {"file": [f"最大 {MAX_BYTES // 1024 // 1024} MB"]}
        )
    if not data.startswith(b"PK"):
        raise ValidationError(
            "不是 .xlsx 文件 (not an .xlsx file)", {"file": ["请用 Excel/WPS 另存为 .xlsx"]}
        )
    folder = _folder()
    for old in folder.iterdir():  # uploads nobody finished
        try:
            if systime.time() - old.stat().st_mtime > KEEP_SECONDS:
                old.unlink(missing_ok=True)
        except FileNotFoundError:
            pass  # another worker removed it first
    token = secrets.token_urlsafe(18)
    (folder / f"{token}.xlsx").write_bytes(data)
    meta = {
        "user_id": user.id,
        "filename": filename,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False))
    read_sheet(token)  # fail now, at the upload, if it cannot be read
    return token


def upload_meta(token: str, user) -> dict:
    """Return the upload's details; only the admin who uploaded it may use it."""
    if not TOKEN.match(token or ""):
        raise NotFound("没有这个上传 (no such upload)")
    path = _folder() / f"{token}.json"
    if not path.exists():
        raise NotFound("上传已过期，请重新上传 (upload expired)")
    meta = json.loads(path.read_text())
    if meta.get("user_id") != user.id:
        raise NotFound("没有这个上传 (no such upload)")
    return meta


def discard(token: str) -> None:
    for ext in ("xlsx", "json"):
        (_folder() / f"{token}.{ext}").unlink(missing_ok=True)


# --- reading ------------------------------------------------------------------------
def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_sheet(token: str) -> Sheet:
    """Read the first sheet: the header is the first of the top 10 rows with 2+ filled cells."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(_folder() / f"{token}.xlsx", read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001  openpyxl raises many kinds for a bad file
        raise ValidationError(
            "无法读取这个文件 (cannot read the workbook)", {"file": [str(exc)[:200]]}
        ) from None
    try:
        sheet = book.worksheets[0]
        header, header_row, rows = None, 0, []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = list(values)
            if header is None:
                if sum(1 for v in values if _cell_text(v)) >= 2:
                    header, header_row = [_cell_text(v) for v in values], number
                elif number >= 10:
                    break
                continue
            if not any(_cell_text(v) for v in values):
                continue
            rows.append((number, values))
            if len(rows) > MAX_ROWS:
                raise ValidationError(
                    f"一次最多导入 {MAX_ROWS} 行，请拆分文件 (at most {MAX_ROWS} rows)",
                    {"file": [f"最多 {MAX_ROWS} 行"]},
                )
    finally:
        book.close()
    if header is None:
        raise ValidationError("找不到表头行 (no header row)", {"file": ["前 10 行中应有一行列名"]})
    while header and not header[-1]:
        header.pop()
    headers = [h or f"列{i + 1}" for i, h in enumerate(header)]
    return Sheet(headers, rows, header_row)


def guess_mapping(headers: list[str]) -> dict[str, int | None]:
    """Propose a column for each field from the header words (exact match first)."""
    mapping: dict[str, int | None] = dict.fromkeys(FIELDS)
    taken: set[int] = set()
    lowered = [h.strip().lower() for h in headers]
    for exact in (True, False):
        for name, (_label, words) in FIELDS.items():
            if mapping[name] is not None:
                continue
            for i, header in enumerate(lowered):
                if i in taken:
                    continue
                hit = header in words if exact else any(len(w) > 1 and w in header for w in words)
                if hit:
                    mapping[name] = i
                    taken.add(i)
                    break
    return mapping


# --- checking -----------------------------------------------------------------------
def _categories() -> dict[str, str]:
    """Every way a ledger may name an active category -> its code."""
    names: dict[str, str] = {}
    for c in db.session.scalars(select(Category).where(Category.active)):
        for key in (c.code, c.name, c.name_en):
            if key:
                names[key.strip().lower()] = c.code
    return names


def _village_point(code: str) -> tuple[float, float] | None | bool:
    """The village's office (or a point inside its boundary); False if no such village."""
    row = db.session.execute(
        select(Area.location, func.ST_PointOnSurface(Area.boundary)).where(
            Area.code == code, Area.level == "village"
        )
    ).first()
    if row is None:
        return False
    point = row[0] if row[0] is not None else row[1]
    if point is None:
        return None
    shape = to_shape(point)
    return shape.x, shape.y


def _date(value) -> datetime | None:
    zone = clock.zone()
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=zone)
    text = _cell_text(value)
    match = re.match(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\s+(\d{1,2}):(\d{2}))?", text)
    if not match:
        raise ValueError(text)
    y, m, d, hh, mm = match.groups()
    return datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), tzinfo=zone)


def _to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    if crs == "gcj02":
        out = prcoords.gcj_wgs_bored(prcoords.Coords(lat, lon))
    elif crs == "bd09":
        out = prcoords.bd_wgs_bored(prcoords.Coords(lat, lon))
    else:
        return lon, lat
    return round(out.lon, 7), round(out.lat, 7)


def check_rows(
    sheet: Sheet, mapping: dict[str, int | None], crs: str = "wgs84", default_category: str = ""
) -> Checked:
    """Turn each row into report_issue arguments, or say what is wrong (row + field)."""
    result = Checked()
    names = _categories()
    default_code = names.get((default_category or "").strip().lower())
    if default_category and default_code is None:
        raise ValidationError(
            "未知的默认类别", {"default_category": [f"没有类别 {default_category}"]}
        )
    if mapping.get("title") is None:
        raise ValidationError("请指定“标题”所在的列", {"map-title": ["必须指定"]})
    if mapping.get("category") is None and default_code is None:
        raise ValidationError(
            "请指定“类别”所在的列，或选择默认类别", {"map-category": ["必须指定或选默认类别"]}
        )
    has_coords = mapping.get("lon") is not None and mapping.get("lat") is not None
    if not has_coords and mapping.get("village_code") is None:
        raise ValidationError(
            "请指定经度和纬度两列，或村/社区代码列",
            {"map-lon": ["需要经纬度或村/社区代码"]},
        )
    today = clock.today()
    villages: dict[str, object] = {}
    for number, values in sheet.rows:

        def cell(name: str, values=values):
            index = mapping.get(name)
            return values[index] if index is not None and index < len(values) else None

        errors: list[tuple[str, str]] = []
        args: dict = {"source": "import", "location_source": "manual"}
        title = _cell_text(cell("title"))
        if not title:
            errors.append(("title", "标题为空"))
        elif len(title) > 200:
            errors.append(("title", "标题超过 200 字"))
        args["title"] = title
        raw_category = _cell_text(cell("category"))
        code = names.get(raw_category.lower()) if raw_category else default_code
        if code is None:
            errors.append(("category", f"未知类别“{raw_category}”" if raw_category else "类别为空"))
        args["category"] = code
        for name, limit in (
            ("description", 5000),
            ("address", 300),
            ("contact_name", 100),
            ("contact_phone", 40),
        ):
            text = _cell_text(cell(name))
            if len(text) > limit:
                errors.append((name, f"超过 {limit} 字"))
            args[name] = text or None
        lon_text, lat_text = _cell_text(cell("lon")), _cell_text(cell("lat"))
        village = _cell_text(cell("village_code"))
        if lon_text or lat_text:
            try:
                lon, lat = float(lon_text), float(lat_text)
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise ValueError
                args["lon"], args["lat"] = _to_wgs84(lon, lat, crs)
            except ValueError:
                field_name = "lat" if lon_text and not lat_text else "lon"
                errors.append((field_name, f"经纬度无效（{lon_text}, {lat_text}）"))
        elif village:
            if village not in villages:
                villages[village] = _village_point(village)
            point = villages[village]
            if point is False:
                errors.append(("village_code", f"没有代码为 {village} 的村/社区"))
            elif point is None:
                errors.append(("village_code", f"村/社区 {village} 没有位置（请补录村委会位置）"))
            else:
                args["lon"], args["lat"] = point
        else:
            errors.append(("lon", "没有经纬度，也没有村/社区代码"))
        raw_date = cell("reported_on")
        if _cell_text(raw_date):
            try:
                observed = _date(raw_date)
                if observed.date() > today:
                    errors.append(("reported_on", "反映日期晚于今天"))
                args["observed_at"] = observed
            except ValueError:
                errors.append(("reported_on", f"日期无法识别“{_cell_text(raw_date)}”"))
        for name, message in errors:
            index = mapping.get(name)
            column = sheet.headers[index] if index is not None else ""
            result.errors.append(RowError(number, name, column, message))
        if not errors:
            result.good.append((number, args))
    return result


def import_rows(sheet: Sheet, checked: Checked, meta: dict, actor) -> dict:
    """Report every row (all or nothing); return counts. Raises with the rows' errors."""
    from fieldwatch.issues.services import report_issue

    if checked.errors:
        raise ValidationError("台账有错误，未导入任何一行", {"rows": ["见错误列表"]})
    created = existing = 0
    problems: list[RowError] = []
    first_ref = last_ref = None
    for number, args in checked.good:
        client_id = f"imp-{meta['sha256'][:24]}-{number}"
        try:
            with db.session.begin_nested():
                issue, was_created = report_issue(actor, client_id=client_id, **args)
        except FieldwatchError as exc:
            for name, messages in (exc.errors or {"": [exc.message]}).items():
                problems.append(RowError(number, name, "", "；".join(messages)))
            continue
        created += was_created
        existing += not was_created
        first_ref = first_ref or issue.ref
        last_ref = issue.ref
    if problems:
        db.session.rollback()
        error = ValidationError("台账有错误，未导入任何一行", {"rows": ["见错误列表"]})
        error.rows = problems
        raise error
    audit(
        "issues.import",
        actor,
        "ledger",
        meta["sha256"][:16],
        {"file": meta["filename"], "created": created, "already": existing},
    )
    return {"created": created, "already": existing, "first": first_ref, "last": last_ref}
