"""Importing a problem ledger (台账) from .xlsx: map columns, see each row's errors, all or nothing."""

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from shapely.geometry import Point
from sqlalchemy import func, select

from fieldwatch import clock
from fieldwatch.extensions import db
from fieldwatch.geo import lonlat_of
from fieldwatch.models import AuditLog, Issue

HEADER = [
    "序号",
    "问题名称",
    "问题类型",
    "具体情况",
    "经度",
    "纬度",
    "村（社区）代码",
    "具体位置",
    "反映时间",
    "联系人",
    "联系电话",
]
GOOD = [
    [
        1,
        "小区地下室水管漏水",
        "老旧小区",
        "多年未修",
        104.02,
        30.05,
        None,
        "红星村3组",
        datetime(2025, 11, 3, 9, 30),
        "张大爷",
        "13800000001",
    ],
    [
        2,
        "僵尸车占用车位",
        "parking",
        None,
        None,
        None,
        "512099002001",
        None,
        date(2025, 12, 1),
        None,
        None,
    ],
    [
        3,
        "健身步道有车辆通行",
        "Roads and traffic",
        "",
        "104.07",
        "30.02",
        "",
        "新华社区",
        "2026/1/5",
        "",
        "",
    ],
]


def workbook(rows, title_row=True) -> bytes:
    book = Workbook()
    sheet = book.active
    if title_row:
        sheet.append(["东风镇2025年民生问题台账"])
        sheet.merge_cells("A1:K1")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, data: bytes, name="台账.xlsx"):
    return client.post(
        "/admin/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def guessed_form(page_text: str) -> dict:
    """The mapping form as the page proposes it (selected option per field)."""
    form = {}
    for name, body in re.findall(
        r'<select[^>]*name="(map-[a-z_]+)">(.*?)</select>', page_text, re.S
    ):
        chosen = re.search(r'<option value="(\d*)" selected>', body)
        form[name] = chosen.group(1) if chosen else ""
    return form


@pytest.fixture
def admin(login_as, small_county, freeze):
    freeze(datetime.fromisoformat("2026-03-10T10:00:00+08:00"))
    return login_as("admin")


def test_upload_preview_guesses_columns_and_imports_all(client, admin):
    response = upload(client, workbook(GOOD))
    assert response.status_code == 302
    url = response.headers["Location"]
    page = client.get(url)
    assert "共 3 行数据（表头在第 2 行）" in page.text
    form = guessed_form(page.text)
    assert form == {
        "map-title": "1",
        "map-category": "2",
        "map-description": "3",
        "map-lon": "4",
        "map-lat": "5",
        "map-village_code": "6",
        "map-address": "7",
        "map-reported_on": "8",
        "map-contact_name": "9",
        "map-contact_phone": "10",
    }
    checked = client.post(url, data={**form, "action": "check"})
    assert checked.status_code == 200 and "3 行全部检查通过" in checked.text
    assert db.session.scalar(select(func.count(Issue.id))) == 0  # checking writes nothing
    done = client.post(url, data={**form, "action": "import"})
    assert done.status_code == 200 and "新增 3 个问题" in done.text
    issues = db.session.scalars(select(Issue).order_by(Issue.id)).all()
    assert [i.title for i in issues] == [row[1] for row in GOOD]
    assert {i.source for i in issues} == {"import"} and {i.status for i in issues} == {"reported"}
    first, second, third = issues
    assert first.category.code == "old_estates" and first.contact_phone == "13800000001"
    assert first.area.code == "512099001001" and first.address == "红星村3组"
    assert first.observed_at == datetime.fromisoformat("2025-11-03T09:30:00+08:00")
    # only a village code: placed at the village office
    assert Point(lonlat_of(second.location)).equals_exact(Point(104.12, 30.05), 1e-9)
    assert second.township.code == "512099002000" and second.category.code == "parking"
    assert third.category.code == "roads" and third.area.code == "512099001002"
    assert clock.local(third.observed_at).date() == date(2026, 1, 5)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "issues.import"))
    assert entry.data == {"file": "台账.xlsx", "created": 3, "already": 0}
    # the upload is gone after the import
    assert client.get(url).status_code == 404


def test_each_rows_errors_are_shown_and_nothing_is_imported(client, admin):
    rows = GOOD + [
        [4, "", "道路交通", None, 104.02, 30.05, None, None, None, None, None],
        [5, "路灯不亮", "路灯", None, 104.02, 30.05, None, None, None, None, None],
        [6, "井盖松动", "安全隐患", None, "东经104度", 30.05, None, None, None, None, None],
        [7, "垃圾堆放", "环境卫生", None, None, None, "512099009999", None, None, None, None],
        [8, "积水", "排水防涝", None, None, None, None, None, None, None, None],
        [9, "噪音", "其他", None, 104.02, 30.05, None, None, "2026-12-01", None, None],
    ]
    url = upload(client, workbook(rows)).headers["Location"]
    form = guessed_form(client.get(url).text)
    for action in ("check", "import"):
        response = client.post(url, data={**form, "action": action})
        assert response.status_code == 422
        table = response.text.split('id="ledger-errors"')[1].split("</table>")[0]
        cells = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>", table)
        assert cells == [
            ("6", "标题", "问题名称"),
            ("7", "类别", "问题类型"),
            ("8", "经度", "经度"),
            ("9", "村/社区代码", "村（社区）代码"),
            ("10", "经度", "经度"),
            ("11", "反映日期", "反映时间"),
        ]
        assert "未知类别“路灯”" in table and "没有代码为 512099009999 的村/社区" in table
        assert "涉及 6 行，未导入任何一行" in response.text
    assert db.session.scalar(select(func.count(Issue.id))) == 0


def test_mapping_must_name_title_category_and_a_place(client, admin):
    url = upload(client, workbook(GOOD)).headers["Location"]
    form = guessed_form(client.get(url).text)
    response = client.post(
        url, data={**form, "map-lon": "", "map-village_code": "", "action": "check"}
    )
    assert response.status_code == 422 and "需要经纬度或村/社区代码" in response.text
    response = client.post(url, data={**form, "map-category": "", "action": "check"})
    assert response.status_code == 422 and "默认类别" in response.text
    # a default category stands in for the column
    response = client.post(
        url, data={**form, "map-category": "", "default_category": "other", "action": "import"}
    )
    assert response.status_code == 200
    assert {i.category.code for i in db.session.scalars(select(Issue))} == {"other"}


def test_the_same_file_twice_adds_nothing(client, admin):
    data = workbook(GOOD)
    url = upload(client, data).headers["Location"]
    form = guessed_form(client.get(url).text)
    client.post(url, data={**form, "action": "import"})
    url = upload(client, data).headers["Location"]
    done = client.post(url, data={**form, "action": "import"})
    assert "新增 0 个问题" in done.text and "另有 3 行此前已导入过" in done.text
    assert db.session.scalar(select(func.count(Issue.id))) == 3


def test_a_failure_while_importing_rolls_back_every_row(client, admin, monkeypatch):
    from fieldwatch.errors_core import ValidationError
    from fieldwatch.issues import services

    real = services.report_issue

    def flaky(reporter, **kwargs):
        if kwargs["title"] == GOOD[2][1]:
            raise ValidationError("坐标无效", {"lat": ["超出范围"]})
        return real(reporter, **kwargs)

    monkeypatch.setattr(services, "report_issue", flaky)
    url = upload(client, workbook(GOOD)).headers["Location"]
    form = guessed_form(client.get(url).text)
    response = client.post(url, data={**form, "action": "import"})
    assert response.status_code == 422
    assert "<tr><td>5</td><td>纬度</td>" in response.text
    assert db.session.scalar(select(func.count(Issue.id))) == 0


def test_gcj02_coordinates_are_converted(client, admin):
    # a point picked on AMap (GCJ-02) is stored in WGS-84
    rows = [
        [
            1,
            "路面塌陷",
            "道路交通",
            None,
            104.02235243653156,
            30.04737195679345,
            None,
            None,
            None,
            None,
            None,
        ]
    ]
    url = upload(client, workbook(rows)).headers["Location"]
    form = guessed_form(client.get(url).text)
    client.post(url, data={**form, "crs": "gcj02", "action": "import"})
    issue = db.session.scalar(select(Issue))
    lon, lat = lonlat_of(issue.location)
    assert abs(lon - 104.02) < 1e-5 and abs(lat - 30.05) < 1e-5


def test_bad_uploads_and_other_admins(client, admin, login_as):
    response = upload(client, b"not a workbook", name="ledger.xlsx")
    assert response.status_code == 422 and 'data-field="file"' in response.text
    response = upload(client, b"a,b\n1,2\n", name="ledger.csv")
    assert response.status_code == 422 and ".xlsx" in response.text
    url = upload(client, workbook(GOOD)).headers["Location"]
    login_as("admin")  # another admin cannot use this upload
    assert client.get(url).status_code == 404
    assert client.get("/admin/import/../../etc").status_code == 404
    login_as("leader")
    assert client.get("/admin/import").status_code == 403
