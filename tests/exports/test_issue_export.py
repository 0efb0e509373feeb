"""The problem list downloads as .xlsx and CSV, filtered and scoped like the page."""

import io

from openpyxl import load_workbook

from fieldwatch.issues import services


def _report(member, title, lon, category="roads"):
    issue, _ = services.report_issue(
        member,
        title=title,
        category=category,
        lon=lon,
        lat=30.05,
        contact_name="张大爷",
        contact_phone="13800000001",
        address="=1+2",
    )
    return issue


def test_issue_list_downloads(client, login_as, make_user, small_county):
    member = make_user("member")
    first = _report(member, "路面塌陷", 104.02)
    _report(member, "积水", 104.12, category="drainage")
    login_as("leader")
    sheet = load_workbook(io.BytesIO(client.get("/issues?format=xlsx").data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:4] == ["编号", "标题", "类别", "乡镇（街道）"] and rows[0][-2:] == [
        "联系人",
        "联系电话",
    ]
    assert len(rows) == 3
    mine = next(r for r in rows if r[0] == first.ref)
    assert mine[1:5] == ["路面塌陷", "道路交通", "东风镇", "红星村"]
    assert mine[5] == "=1+2" and sheet.cell(row=rows.index(mine) + 1, column=6).data_type == "s"
    assert mine[6:9] == [104.02, 30.05, "已上报"]
    # the filters apply; CSV has the BOM
    body = client.get("/issues?format=csv&category=drainage").data
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and "积水" in lines[1] and "'=1+2" in lines[1]


def test_unit_staff_download_only_their_issues_without_contacts(
    client, login_as, make_user, small_county
):
    member = make_user("member")
    admin = make_user("admin")
    mine = _report(member, "井盖松动", 104.02, category="safety")
    _report(member, "别的问题", 104.03)
    services.transition(mine, "accepted", admin)
    services.transition(mine, "in_progress", admin, unit="water")
    login_as("unit", unit="water")
    lines = client.get("/issues?format=csv").data.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and mine.ref in lines[1]
    assert "联系人" not in lines[0] and "13800000001" not in lines[1]
