"""The shared spreadsheet helpers: CSV with BOM, .xlsx with typed cells, formula-safe, named files."""

import csv
import io
from datetime import UTC, date, datetime
from urllib.parse import unquote

from openpyxl import load_workbook

from fieldwatch.exports import csv_response, export_response, xlsx_response

HEADERS = ["编号", "标题", "上报时间", "期限", "距离", "已办结"]
ROWS = [
    [
        "FW-2026-000001",
        "=cmd|' /C calc'!A0",
        datetime(2026, 3, 9, 16, 30, tzinfo=UTC),
        date(2026, 4, 1),
        12.5,
        True,
    ],
    ["FW-2026-000002", "-3", None, None, -7, False],
    ["FW-2026-000003", "+86 138", None, None, 0, False],
]


def test_csv_has_bom_crlf_and_neutralised_formulas(app, freeze):
    freeze(datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    with app.test_request_context():
        response = csv_response("问题清单", HEADERS, ROWS)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="export-20260310.csv"')  # ASCII fallback
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "问题清单-20260310.csv"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    assert rows[1] == [
        "FW-2026-000001",
        "'=cmd|' /C calc'!A0",
        "2026-03-10 00:30",
        "2026-04-01",
        "12.5",
        "是",
    ]
    assert rows[2][1] == "-3" and rows[2][4] == "-7"  # numbers stay numbers
    assert rows[3][1] == "'+86 138"


def test_xlsx_typed_cells_local_times_and_text_formulas(app, freeze):
    freeze(datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    with app.test_request_context():
        response = xlsx_response("问题清单", HEADERS, ROWS, "问题/清单")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "问题清单-20260310.xlsx" in unquote(response.headers["Content-Disposition"])
    book = load_workbook(io.BytesIO(response.get_data()))
    sheet = book.active
    assert sheet.title == "问题_清单"  # "/" is not allowed in sheet names
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    assert sheet["B2"].value == "=cmd|' /C calc'!A0" and sheet["B2"].data_type == "s"
    assert sheet["C2"].value == datetime(2026, 3, 10, 0, 30)  # Shanghai time
    assert sheet["D2"].value == datetime(2026, 4, 1) and sheet["D2"].number_format == "yyyy-mm-dd"
    assert sheet["E2"].value == 12.5 and sheet["E3"].value == -7
    assert sheet["F2"].value == "是"
    assert sheet.column_dimensions["B"].width >= 10


def test_export_response_by_format(app):
    with app.test_request_context():
        assert export_response(None, "x", HEADERS, ROWS) is None
        assert export_response("html", "x", HEADERS, ROWS) is None
        assert export_response("csv", "x", HEADERS, ROWS).mimetype == "text/csv"
        assert export_response("xlsx", "x", HEADERS, iter(ROWS)).status_code == 200
