"""Spreadsheet downloads for every list and board: CSV (UTF-8 with BOM) and .xlsx.

Any route can answer `?format=csv|xlsx` with these:

    rows = ((u.login, u.name, u.role) for u in users)
    return csv_response("用户", ["登录名", "姓名", "角色"], rows)

Cells are written as text, numbers, dates or times; a text cell that a
spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) is prefixed
with an apostrophe (CSV injection), and .xlsx cells are forced to text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from urllib.parse import quote

from flask import Response

from fieldwatch import clock

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limit on sheet titles, and characters it refuses in them
SHEET_TITLE_MAX = 31
SHEET_TITLE_BAD = set("[]:*?/\\")


def _disposition(filename: str, ext: str) -> str:
    """Content-Disposition naming the file in UTF-8 (RFC 6266) with an ASCII fallback."""
    stamp = clock.today().strftime("%Y%m%d")
    name = f"{filename}-{stamp}.{ext}"
    ascii_name = name.encode("ascii", "ignore").decode() or f"export-{stamp}.{ext}"
    if ascii_name.startswith(("-", ".")):
        ascii_name = f"export{ascii_name}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def safe_text(value: str) -> str:
    """Neutralise a cell that a spreadsheet would evaluate as a formula."""
    if value and value.startswith(FORMULA_START):
        try:
            float(value)
            return value  # a negative number written as text stays readable
        except ValueError:
            return "'" + value
    return value


def _plain(value) -> object:
    """A cell value for CSV: dates as ISO, times local, booleans as 是/否."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        shown = clock.local(value) if value.tzinfo else value
        return shown.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return value
    return safe_text(str(value))


def csv_rows(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    """Return the CSV text (with BOM, CRLF line ends) for headers and rows."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_text(str(h)) for h in headers])
    for row in rows:
        writer.writerow([_plain(v) for v in row])
    return out.getvalue()


def csv_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """Answer a CSV download (UTF-8 with BOM, so Excel opens Chinese correctly)."""
    body = csv_rows(headers, rows).encode("utf-8")
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Type": CSV_TYPE,
            "Content-Disposition": _disposition(filename, "csv"),
            "Cache-Control": "no-store",
        },
    )


def _sheet_title(title: str) -> str:
    cleaned = "".join("_" if c in SHEET_TITLE_BAD else c for c in (title or "Sheet1"))
    return cleaned[:SHEET_TITLE_MAX] or "Sheet1"


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence], sheet_title: str) -> bytes:
    """Return an .xlsx workbook: bold frozen header, sized columns, typed cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(sheet_title))
    sheet.freeze_panes = "A2"
    widths = [max(len(str(h)) * 2, 8) for h in headers]
    bold = Font(bold=True)

    def text_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=None)
        cell.value = value
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell

    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            if isinstance(value, datetime):
                value = (clock.local(value) if value.tzinfo else value).replace(tzinfo=None)
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
                shown = 16
            elif isinstance(value, date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd"
                shown = 10
            elif isinstance(value, bool):
                cell = text_cell("是" if value else "否")
                shown = 2
            elif isinstance(value, int | float):
                cell = WriteOnlyCell(sheet, value=value)
                shown = len(str(value))
            elif value is None:
                cell = WriteOnlyCell(sheet, value=None)
                shown = 0
            else:
                text = str(value)
                cell = text_cell(text)
                shown = sum(2 if ord(c) > 0x2E80 else 1 for c in text[:60])
            if i < len(widths):
                widths[i] = max(widths[i], min(shown + 2, 60))
            cells.append(cell)
        body.append(cells)
    # write-only sheets need column widths before the first row
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    header_cells = []
    for h in headers:
        cell = text_cell(str(h))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for cells in body:
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(
    filename: str, headers: Sequence[str], rows: Iterable[Sequence], sheet_title: str
) -> Response:
    """Answer an .xlsx download."""
    return Response(
        xlsx_bytes(headers, rows, sheet_title),
        mimetype=XLSX_TYPE,
        headers={
            "Content-Disposition": _disposition(filename, "xlsx"),
            "Cache-Control": "no-store",
        },
    )


def export_response(
    fmt: str | None,
    filename: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    sheet_title: str | None = None,
) -> Response | None:
    """Answer `fmt` ("csv" or "xlsx") as a download; None for any other value (show the page)."""
    if fmt == "csv":
        return csv_response(filename, headers, rows)
    if fmt == "xlsx":
        return xlsx_response(filename, headers, rows, sheet_title or filename)
    return None


# --- problems (issues) ------------------------------------------------------------
#: the most rows one download holds (a county's whole ledger fits)
MAX_ROWS = 50_000
STATUS_NAMES = {
    "reported": "已上报",
    "accepted": "已受理",
    "in_progress": "办理中",
    "resolved": "已办结",
    "closed": "已销号",
    "rejected": "不予受理",
    "duplicate": "重复",
}
SOURCE_NAMES = {
    "field": "现场上报",
    "visit": "走访",
    "open311": "Open311",
    "hotline": "热线",
    "import": "台账导入",
}
ISSUE_HEADERS = [
    "编号", "标题", "类别", "乡镇（街道）", "村（社区）", "地址", "经度", "纬度", "状态",
    "紧急", "承办单位", "办理期限", "答复类别", "来源", "上报时间", "办结时间", "销号时间",
    "重办次数", "描述",
]  # fmt: skip
CONTACT_HEADERS = ["联系人", "联系电话"]


def issue_rows(issues, with_contact: bool = False):
    """Rows for a problem list download (the ledger's columns); contact only when allowed."""
    from fieldwatch.geo import lonlat_of

    for issue in issues:
        lon, lat = lonlat_of(issue.location) or (None, None)
        row = [
            issue.ref,
            issue.title,
            getattr(issue.category, "name", ""),
            getattr(issue.township, "name", ""),
            getattr(issue.area, "name", ""),
            issue.address,
            round(lon, 6) if lon is not None else None,
            round(lat, 6) if lat is not None else None,
            STATUS_NAMES.get(issue.status, issue.status),
            issue.priority == "urgent",
            getattr(issue.unit, "name", ""),
            issue.due_on,
            issue.answer_class,
            SOURCE_NAMES.get(issue.source, issue.source),
            issue.created_at,
            issue.resolved_at,
            issue.closed_at,
            issue.reopen_count or 0,
            issue.description,
        ]
        if with_contact:
            row += [issue.contact_name, issue.contact_phone]
        yield row


def issue_export(fmt: str | None, issues, with_contact: bool = False) -> Response | None:
    """Answer a problem list as CSV/.xlsx for `?format=`; None when no download is asked."""
    if fmt not in ("csv", "xlsx"):
        return None
    headers = ISSUE_HEADERS + (CONTACT_HEADERS if with_contact else [])
    return export_response(fmt, "问题清单", headers, issue_rows(issues, with_contact), "问题")
