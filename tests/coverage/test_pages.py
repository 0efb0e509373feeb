"""The coverage page, its CSV export and its village layer."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

V11, V12, V21, V22 = "512099001001", "512099001002", "512099002001", "512099002002"
T1, T2 = "512099001000", "512099002000"


def test_page_has_map_table_totals_and_marks(client, login_as, build):
    build.station(lon=104.02, lat=30.05, serves=[V11, V12])
    login_as("member")
    response = client.get("/coverage?as_of=2025-06-30")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="folium-map"' in html and "data-coverage-map" in html
    assert (
        "/static/js/coverage-map.js" in html
        and "/coverage/villages.geojson?as_of=2025-06-30" in html
    )
    row = re.search(rf'<tr data-code="{T1}"[^>]*>(.*?)</tr>', html, re.S)
    assert 'class="fully-covered"' in row.group(0) and "全覆盖" in row.group(1)
    row2 = re.search(rf'<tr data-code="{T2}"[^>]*>(.*?)</tr>', html, re.S).group(1)
    assert "石桥村、柳湾村" in row2 and "0.0%" in row2 and "无" in row2
    assert "2/4" in html and "50.0%" in html  # county totals
    assert 'value="2025-06-30"' in html
    assert not re.search(r"""(src|href)=["']https?://""", html)


def test_bad_date_shows_on_the_field(client, login_as, small_county):
    login_as("member")
    response = client.get("/coverage?as_of=yesterday")
    assert response.status_code == 422
    assert 'data-field="as_of"' in response.get_data(as_text=True)


def test_empty_state(client, login_as):
    login_as("admin")
    html = client.get("/coverage").get_data(as_text=True)
    assert "还没有乡镇(街道)，无法统计覆盖" in html and 'href="/areas/import"' in html


def test_csv_export_is_utf8_with_bom_and_chinese_headers(client, login_as, build):
    build.station(lon=104.02, lat=30.05, serves=[V11, V12])
    login_as("supervisor")
    response = client.get("/coverage.csv?as_of=2025-06-30")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "coverage-2025-06-30.csv" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert (
        rows[0][:3] == ["乡镇(街道)编码", "乡镇(街道)", "有平台"]
        and rows[0][-1] == "未覆盖的村(社区)"
    )
    assert rows[1] == [T1, "东风镇", "是", "1", "1", "1", "2", "2", "100.0", "是", "0", ""]
    assert rows[2] == [
        T2,
        "西岭乡",
        "否",
        "0",
        "2",
        "0",
        "2",
        "0",
        "0.0",
        "否",
        "0",
        "石桥村、柳湾村",
    ]
    assert rows[3][1] == "合计（截至 2025-06-30）" and rows[3][2:] == [
        "1/2", "", "3", "1", "4", "2", "50.0", "否", "0", ""
    ]  # fmt: skip


def test_village_layer(client, login_as, build):
    build.station(lon=104.02, lat=30.05)
    login_as("member")
    body = client.get("/coverage/villages.geojson?as_of=2025-06-30").get_json()
    kinds = {"Polygon": "area", "MultiPolygon": "area", "Point": "office"}
    status = {f["properties"]["code"]: (kinds[f["geometry"]["type"]], f["properties"]["covered"])
              for f in body["features"]}  # fmt: skip
    assert status == {
        V11: ("area", True),
        V12: ("area", False),
        V21: ("office", False),
        V22: ("office", False),
    }
    east = client.get("/coverage/villages.geojson?as_of=2025-06-30&bbox=104.11,30.0,104.2,30.1")
    assert sorted(f["properties"]["code"] for f in east.get_json()["features"]) == [V21, V22]
    before = client.get(f"/coverage/villages.geojson?as_of={date(2019, 1, 1)}").get_json()
    assert not any(f["properties"]["covered"] for f in before["features"])


def test_page_in_english(client, login_as, build):
    build.station(lon=104.02, lat=30.05, serves=[V11, V12])
    login_as("member")
    response = client.get("/coverage?as_of=2025-06-30", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert '<html lang="en">' in response.get_data(as_text=True)
