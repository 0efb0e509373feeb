"""Admin lists: categories, units, the base-map setting, the audit log; each change audited."""

import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlalchemy import select

from fieldwatch.extensions import db
from fieldwatch.models import AuditLog, Category, Setting, Unit

CATEGORY = {
    "code": "street_lights",
    "name": "路灯照明",
    "name_en": "Street lights",
    "deadline_days": "10",
    "lookback_days": "20",
    "duplicate_radius_m": "120",
    "active": "y",
}


def _last(action):
    return db.session.scalars(
        select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id.desc())
    ).first()


def test_create_and_edit_a_category(client, login_as):
    admin = login_as("admin")
    response = client.post("/admin/categories/new", data=CATEGORY)
    assert response.status_code == 302
    category = db.session.scalar(select(Category).where(Category.code == "street_lights"))
    assert (category.deadline_days, category.lookback_days, category.duplicate_radius_m) == (
        10,
        20,
        120,
    )
    assert _last("category.create").actor_id == admin.id
    assert "路灯照明" in client.get("/admin/categories").text
    edit = dict(CATEGORY, code="renamed", deadline_days="5")
    edit.pop("active")  # unchecked: deactivate
    response = client.post(f"/admin/categories/{category.id}", data=edit)
    assert response.status_code == 302
    category = db.session.get(Category, category.id)
    assert category.code == "street_lights"  # the code never changes
    assert category.deadline_days == 5 and category.active is False
    assert _last("category.update").data["changes"]["deadline_days"] == [10, 5]


def test_category_field_errors_keep_nothing(client, login_as):
    login_as("admin")
    bad = dict(CATEGORY, code="Bad Code!", deadline_days="0", lookback_days="400")
    response = client.post("/admin/categories/new", data=bad)
    assert response.status_code == 422
    for name in ("deadline_days", "lookback_days"):
        assert f'data-field="{name}"' in response.text
    response = client.post("/admin/categories/new", data=dict(CATEGORY, code="Bad Code!"))
    assert response.status_code == 422 and 'data-field="code"' in response.text
    response = client.post("/admin/categories/new", data=dict(CATEGORY, code="roads"))
    assert response.status_code == 422 and "已存在" in response.text
    assert db.session.scalar(select(Category).where(Category.name == "路灯照明")) is None


def test_a_new_category_is_offered_to_reporters(client, login_as):
    from fieldwatch.issues.services import report_issue

    login_as("admin")
    client.post("/admin/categories/new", data=CATEGORY)
    member = login_as("member")
    issue, created = report_issue(
        member, title="路灯不亮", category="street_lights", lon=104.02, lat=30.05
    )
    assert created and issue.category.name == "路灯照明"


def test_units_create_edit_with_township_link(client, login_as, small_county):
    login_as("admin")
    response = client.post(
        "/admin/units/new",
        data={
            "code": "dongfeng_gov",
            "name": "东风镇人民政府",
            "township": "512099001000",
            "active": "y",
        },
    )
    assert response.status_code == 302
    unit = db.session.scalar(select(Unit).where(Unit.code == "dongfeng_gov"))
    assert unit.township.code == "512099001000"
    assert _last("unit.create").object_id == str(unit.id)
    response = client.post(
        f"/admin/units/{unit.id}", data={"code": "x", "name": "东风镇政府", "township": ""}
    )
    assert response.status_code == 302
    unit = db.session.get(Unit, unit.id)
    assert unit.name == "东风镇政府" and unit.township_id is None and not unit.active
    response = client.post("/admin/units/new", data={"code": "ok_code", "name": ""})
    assert response.status_code == 422 and 'data-field="name"' in response.text
    response = client.post(
        "/admin/units/new", data={"code": "ok_code", "name": "某局", "township": "999"}
    )
    assert response.status_code == 422 and 'data-field="township"' in response.text
    assert db.session.scalar(select(Unit).where(Unit.code == "ok_code")) is None


def test_lists_export(client, login_as):
    login_as("admin")
    sheet = load_workbook(io.BytesIO(client.get("/admin/categories?format=xlsx").data)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["编码", "名称", "英文名称", "办理期限（天）"]
    codes = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert "roads" in codes
    body = client.get("/admin/units?format=csv").data.decode("utf-8-sig")
    assert body.splitlines()[0] == "编码,名称,英文名称,所属乡镇,乡镇编码,启用,工作人员数"
    assert len(body.splitlines()) == 1 + db.session.query(Unit).count()


def test_basemap_setting_validated_and_stored_as_the_map_reads_it(client, login_as):
    login_as("admin")
    assert client.get("/admin/basemap").status_code == 200
    cases = [
        ({"kind": "custom", "url": "http://tiles.example.org/{z}/{x}/{y}.png"}, "url"),
        ({"kind": "custom", "url": "https://tiles.example.org/tiles.png"}, "url"),
        ({"kind": "custom", "url": "javascript:alert(1)//{z}{x}{y}"}, "url"),
        ({"kind": "custom", "url": ""}, "url"),
        ({"kind": "tianditu", "key": "not-a-key"}, "key"),
        ({"kind": "tianditu", "key": ""}, "key"),
        ({"kind": "bing"}, "kind"),
    ]
    for data, field in cases:
        response = client.post("/admin/basemap", data=data)
        assert response.status_code == 422, data
        assert f'data-field="{field}"' in response.text or "可选" in response.text, data
    assert db.session.get(Setting, "basemap") is None
    url = "https://{s}.tiles.example.gov.cn/{z}/{x}/{y}.png"
    response = client.post(
        "/admin/basemap", data={"kind": "custom", "url": url, "attribution": "© 县测绘院"}
    )
    assert response.status_code == 302
    value = db.session.get(Setting, "basemap").value
    assert value == {
        "kind": "custom",
        "tianditu_key": "",
        "tile_url": url,
        "attribution": "© 县测绘院",
    }
    key = "0123456789abcdef0123456789abcdef"
    client.post("/admin/basemap", data={"kind": "tianditu", "key": key, "url": url})
    value = db.session.get(Setting, "basemap").value
    assert value["kind"] == "tianditu" and value["tianditu_key"] == key and not value["tile_url"]
    entry = _last("setting.basemap")
    assert entry.data["from"] == "custom" and entry.data["key"] == "***"  # the key is not logged


def test_audit_log_filters_paging_and_export(client, login_as, make_user, freeze):
    from fieldwatch.auth.services import audit

    admin = login_as("admin")
    other = make_user("leader", login="someone")
    freeze(datetime(2026, 3, 1, 1, 0, tzinfo=UTC))  # 09:00 on 1 March in Shanghai
    for i in range(60):
        audit("probe.one", admin, "thing", i)
    db.session.flush()  # the time is stamped at flush
    freeze(datetime(2026, 3, 4, 17, 0, tzinfo=UTC))  # 01:00 on 5 March in Shanghai
    audit("probe.two", other, "thing", 99)
    db.session.commit()

    page = client.get("/admin/audit?action=probe.one")
    assert page.text.count("<code>probe.one</code>") == 50
    assert "第 1 / 2 页" in page.text
    page2 = client.get("/admin/audit?action=probe.one&page=2")
    assert page2.text.count("<code>probe.one</code>") == 10
    page = client.get("/admin/audit?actor=someone")
    assert "<code>probe.two</code>" in page.text and "<code>probe.one</code>" not in page.text
    # dates are local: 5 March in Shanghai holds the second entry only
    page = client.get("/admin/audit?since=2026-03-05&until=2026-03-05")
    assert "<code>probe.two</code>" in page.text and "<code>probe.one</code>" not in page.text
    assert client.get("/admin/audit?since=yesterday").status_code == 422
    rows = client.get("/admin/audit?format=csv&action=probe.two").data.decode("utf-8-sig")
    lines = rows.strip().splitlines()
    assert lines[0].startswith("时间,操作,操作人") and len(lines) == 2
    assert lines[1].startswith("2026-03-05 01:00,probe.two,someone")
