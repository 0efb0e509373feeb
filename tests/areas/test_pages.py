"""The places pages and the admin's boundary upload."""

from __future__ import annotations

import io

from shapely.geometry import Point, box
from sqlalchemy import func, select

from fieldwatch.extensions import db
from fieldwatch.models import Area


def test_townships_and_places_lists(client, login_as, small_county):
    login_as("member")
    page = client.get("/areas/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "东风镇" in html and "西岭乡" in html and "导入边界" not in html
    page = client.get("/areas/512099002000")
    html = page.get_data(as_text=True)
    assert "石桥村" in html and "柳湾村" in html and "仅有点位" in html
    assert client.get("/areas/512099002001").status_code == 404  # a village is no township


def test_empty_list_says_what_to_do(client, login_as):
    login_as("admin")
    html = client.get("/areas/").get_data(as_text=True)
    assert "先导入乡镇边界" in html and 'href="/areas/import"' in html


def test_only_admins_import(client, login_as):
    login_as("leader")
    assert client.get("/areas/import").status_code == 403


def _upload(client, path, **fields):
    data = {"level": "village", **fields}
    with open(path, "rb") as fh:
        data["file"] = (io.BytesIO(fh.read()), path.name)
    return client.post("/areas/import", data=data, content_type="multipart/form-data")


def test_upload_imports_a_zipped_shapefile(client, login_as, small_county, tmp_path, files):
    login_as("admin")
    shp = files.write(
        tmp_path / "v.shp",
        [(box(104.0, 30.0, 104.05, 30.1), {"code": "512099001003", "name": "新村"})],
        crs="EPSG:4490",
        geometry_type="Polygon",
    )
    response = _upload(client, files.zip_shapefile(shp))
    assert response.status_code == 302 and response.location.endswith("/areas/")
    new = db.session.scalar(select(Area).where(Area.code == "512099001003"))
    assert new.parent.code == "512099001000" and new.kind == "village"
    assert "已导入 1 个" in client.get("/areas/").get_data(as_text=True)


def test_upload_errors_show_on_the_form_and_change_nothing(
    client, login_as, small_county, tmp_path, files
):
    login_as("admin")
    count = db.session.scalar(select(func.count(Area.id)))
    path = files.write(
        tmp_path / "bad.geojson",
        [
            (Point(104.01, 30.01), {"code": "512099001003", "name": "好村"}),
            (Point(104.02, 30.01), {"code": "512099077001", "name": "无主村"}),
        ],
    )
    response = _upload(client, path)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field="file"' in html and "要素 #2 (编码 512099077001)" in html
    assert db.session.scalar(select(func.count(Area.id))) == count

    response = _upload(client, path, code_field="CODE_X")
    assert 'data-field="code_field"' in response.get_data(as_text=True)
    response = client.post("/areas/import", data={"level": "village"})
    assert response.status_code == 422 and "请选择文件" in response.get_data(as_text=True)


def test_upload_needs_the_csrf_token(app, client, login_as, tmp_path, files):
    login_as("admin")
    path = files.write(tmp_path / "t.geojson", [(Point(104.0, 30.0), {"code": "1", "name": "x"})])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = _upload(client, path)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
