"""Importing townships and villages: each format and CRS, repairs, and all-or-nothing errors."""

from __future__ import annotations

import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from sqlalchemy import func, select

from fieldwatch.areas.importer import FieldMap, import_areas
from fieldwatch.errors_core import ValidationError
from fieldwatch.extensions import db
from fieldwatch.models import Area

COUNTY, T1, T2 = "512099000000", "512099001000", "512099002000"
TOL = 1e-6  # degrees, about 0.1 m


def area(code: str) -> Area:
    db.session.expire_all()
    return db.session.scalar(select(Area).where(Area.code == code))


def snapshot() -> list[tuple]:
    """Everything about the stored areas, to prove a failed import changed nothing."""
    db.session.expire_all()
    rows = db.session.execute(
        select(
            Area.code,
            Area.name,
            Area.kind,
            Area.parent_id,
            func.ST_AsEWKT(Area.boundary),
            func.ST_AsEWKT(Area.location),
        ).order_by(Area.code)
    )
    return [tuple(r) for r in rows]


def same_shape(stored, expected, tol: float = TOL) -> bool:
    shape = to_shape(stored)
    return shape.equals_exact(expected, tol) or shape.symmetric_difference(expected).area < tol**2


def test_geojson_townships_in_4326_with_chinese_kinds(app, county, township_file):
    result = import_areas(township_file, "township")

    assert (result.created, result.updated, result.polygons, result.points) == (2, 0, 2, 0)
    t1, t2 = area(T1), area(T2)
    assert (t1.name, t1.level, t1.kind, t1.parent.code) == ("东风镇", "township", "town", COUNTY)
    assert (t2.name, t2.kind, t2.parent.code) == ("城关街道", "subdistrict", COUNTY)
    assert same_shape(t1.boundary, MultiPolygon([box(104.0, 30.0, 104.1, 30.1)]))
    assert to_shape(t1.boundary).contains(to_shape(t1.location))


def test_zipped_shapefile_in_cgcs2000(app, townships, tmp_path, files):
    v1 = box(104.0, 30.0, 104.05, 30.1)
    v2 = Polygon([(104.05, 30.0), (104.1, 30.0), (104.1, 30.1), (104.07, 30.08), (104.05, 30.1)])
    shp = files.write(
        tmp_path / "villages.shp",
        [
            (v1, {"DM": "512099001001", "MC": "红星村", "SJDM": T1, "LX": "行政村"}),
            (v2, {"DM": "512099001002", "MC": "新华社区", "SJDM": T1, "LX": "社区"}),
        ],
        crs="EPSG:4490",
        geometry_type="Polygon",
    )
    zipped = files.zip_shapefile(shp)

    result = import_areas(
        zipped, "village", FieldMap(code="DM", name="MC", parent="SJDM", kind="LX")
    )

    assert result.source_crs == "EPSG:4490"
    assert (result.created, result.polygons) == (2, 2)
    a, b = area("512099001001"), area("512099001002")
    assert (a.name, a.kind, a.parent.code) == ("红星村", "village", T1)
    assert (b.name, b.kind, b.parent.code) == ("新华社区", "community", T1)
    assert same_shape(a.boundary, MultiPolygon([v1]))
    assert same_shape(b.boundary, MultiPolygon([v2]))


def test_geopackage_in_a_projected_cgcs2000_zone(app, townships, tmp_path, files):
    # EPSG:4544 = CGCS2000 / 3-degree Gauss-Kruger CM 105E (metres)
    v1 = box(104.1, 30.0, 104.15, 30.1)
    v2 = MultiPolygon([box(104.15, 30.0, 104.2, 30.05), box(104.15, 30.06, 104.2, 30.1)])
    gpkg = files.write(
        tmp_path / "villages.gpkg",
        [
            (files.project(v1, 4544), {"code": "512099002001", "name": "石桥村"}),
            (files.project(v2, 4544), {"code": "512099002002", "name": "柳湾社区"}),
        ],
        crs="EPSG:4544",
        geometry_type="MultiPolygon",
    )
    x0 = files.project(v1, 4544).bounds[0]
    assert 400_000 < x0 < 600_000  # really metres

    result = import_areas(gpkg, "village")

    assert result.source_crs == "EPSG:4544"
    a, b = area("512099002001"), area("512099002002")
    assert (a.kind, a.parent.code, b.kind) == ("village", T2, "community")  # kind from the name
    assert same_shape(a.boundary, MultiPolygon([v1]))
    assert same_shape(b.boundary, v2)
    assert len(to_shape(b.boundary).geoms) == 2


def test_shapefile_without_crs_needs_srid(app, townships, tmp_path, files):
    v = files.project(box(104.0, 30.0, 104.05, 30.1), 4544)
    shp = files.write(
        tmp_path / "noprj.shp",
        [(v, {"code": "512099001001", "name": "红星村"})],
        crs=None,
        geometry_type="Polygon",
    )
    with pytest.raises(ValidationError, match="要素 #1 .*--srid"):
        import_areas(shp, "village")

    import_areas(shp, "village", srid=4544)
    assert same_shape(area("512099001001").boundary, MultiPolygon([box(104.0, 30.0, 104.05, 30.1)]))


def test_points_only_villages(app, townships, tmp_path, files):
    path = files.write(
        tmp_path / "offices.geojson",
        [
            (Point(104.12, 30.05), {"code": "512099002001", "name": "石桥村", "类型": "村"}),
            (
                Point(104.18, 30.05),
                {"code": "512099002002", "name": "柳湾居委会", "类型": "居委会"},
            ),
        ],
    )

    result = import_areas(path, "village")

    assert (result.created, result.polygons, result.points) == (2, 0, 2)
    a, b = area("512099002001"), area("512099002002")
    assert a.boundary is None and to_shape(a.location).equals_exact(Point(104.12, 30.05), TOL)
    assert (a.kind, b.kind, b.parent.code) == ("village", "community", T2)


def test_reimport_updates_by_code_and_points_keep_boundaries(app, townships, tmp_path, files):
    v1 = box(104.0, 30.0, 104.05, 30.1)
    polygons = files.write(
        tmp_path / "v.geojson", [(v1, {"code": "512099001001", "name": "红星村"})]
    )
    import_areas(polygons, "village")
    first_id = area("512099001001").id

    office = Point(104.01, 30.02)
    points = files.write(
        tmp_path / "p.geojson", [(office, {"code": "512099001001", "name": "红星新村"})]
    )
    result = import_areas(points, "village")

    assert (result.created, result.updated) == (0, 1)
    a = area("512099001001")
    assert (a.id, a.name) == (first_id, "红星新村")
    assert same_shape(a.boundary, MultiPolygon([v1]))  # the point file left it alone
    assert to_shape(a.location).equals_exact(office, TOL)

    import_areas(polygons, "village")  # boundaries again: the office inside stays
    a = area("512099001001")
    assert a.name == "红星村" and to_shape(a.location).equals_exact(office, TOL)
    assert db.session.scalar(select(func.count(Area.id)).where(Area.level == "village")) == 1


def test_invalid_polygon_is_repaired(app, townships, tmp_path, files):
    bowtie = Polygon([(104.0, 30.0), (104.05, 30.1), (104.05, 30.0), (104.0, 30.1), (104.0, 30.0)])
    assert not bowtie.is_valid
    path = files.write(
        tmp_path / "bowtie.geojson", [(bowtie, {"code": "512099001001", "name": "红星村"})]
    )

    result = import_areas(path, "village")

    assert result.repaired == 1
    stored = to_shape(area("512099001001").boundary)
    assert stored.is_valid and len(stored.geoms) == 2
    assert stored.area == pytest.approx(0.05 * 0.1 / 2, rel=1e-6)


@pytest.mark.parametrize(
    "bad, expected",
    [
        (
            (
                Polygon([(104.0, 30.0), (104.05, 30.05), (104.1, 30.1), (104.0, 30.0)]),
                {"code": "512099001002", "name": "坏村"},
            ),
            r"要素 #2 \(编码 512099001002\): 几何无效且无法修复",
        ),
        ((box(104.05, 30.0, 104.1, 30.1), {"code": None, "name": "无码村"}), r"要素 #2: 缺少编码"),
        (
            (box(104.05, 30.0, 104.1, 30.1), {"code": "512099009001", "name": "外村"}),
            r"要素 #2 \(编码 512099009001\): 上级编码 512099009000 不存在",
        ),
        (
            (box(104.05, 30.0, 104.1, 30.1), {"code": "512099001001", "name": "重复村"}),
            r"要素 #2 \(编码 512099001001\): 编码与要素 #1 重复",
        ),
        (
            (LineString([(104.0, 30.0), (104.1, 30.1)]), {"code": "512099001002", "name": "线村"}),
            r"要素 #2 \(编码 512099001002\): 几何应为面或点",
        ),
        (
            (
                box(104.05, 30.0, 104.1, 30.1),
                {"code": "512099001002", "name": "怪村", "kind": "庄"},
            ),
            r"要素 #2 \(编码 512099001002\): 未知类型",
        ),
    ],
    ids=["unrepairable", "missing-code", "unknown-parent", "duplicate", "line", "unknown-kind"],
)
def test_a_broken_file_changes_nothing_and_names_the_feature(
    app, townships, tmp_path, files, bad, expected
):
    good = (
        box(104.0, 30.0, 104.05, 30.1),
        {"code": "512099001001", "name": "红星村", "kind": "村"},
    )
    bad_geom, bad_props = bad
    bad_props = {"code": None, "name": None, "kind": None, **bad_props}
    path = files.write(tmp_path / "broken.geojson", [good, (bad_geom, bad_props)])
    before = snapshot()

    with pytest.raises(ValidationError, match=expected) as caught:
        import_areas(path, "village")

    assert snapshot() == before
    assert caught.value.errors["file"][0].startswith("要素 #2")


def test_unknown_field_and_unsupported_format(app, townships, tmp_path, files):
    path = files.write(
        tmp_path / "v.geojson", [(Point(104.0, 30.0), {"编号": "512099001001", "名称": "红星村"})]
    )
    with pytest.raises(ValidationError, match="找不到编码字段") as caught:
        import_areas(path, "village")
    assert "编号" in caught.value.message
    with pytest.raises(ValidationError, match="没有字段 CODE"):
        import_areas(path, "village", FieldMap(code="CODE"))
    import_areas(path, "village", FieldMap(code="编号"))
    assert area("512099001001").name == "红星村"

    other = tmp_path / "v.csv"
    other.write_text("code,name\n")
    with pytest.raises(ValidationError, match="不支持的文件类型"):
        import_areas(other, "village")


def test_nine_digit_township_codes_are_padded(app, county, tmp_path, files):
    path = files.write(
        tmp_path / "t.geojson",
        [(box(104.0, 30.0, 104.1, 30.1), {"code": "512099001", "name": "东风镇"})],
    )
    import_areas(path, "township")
    assert area(T1).kind == "town" and area(T1).parent.code == COUNTY


def test_cli_imports_and_prints_counts(app, county, runner, township_file):
    from fieldwatch.areas.cli import register_cli
    from fieldwatch.cli import cli

    register_cli(cli)
    result = runner.invoke(["areas", "import", str(township_file), "--level", "township"])

    assert result.exit_code == 0, result.output
    assert "imported 2 townships: 2 created, 0 updated" in result.output
    assert area(T2).kind == "subdistrict"


def test_cli_failure_rolls_back(app, townships, runner, tmp_path, files):
    from fieldwatch.areas.cli import register_cli
    from fieldwatch.cli import cli

    register_cli(cli)
    path = files.write(
        tmp_path / "v.geojson",
        [
            (box(104.0, 30.0, 104.05, 30.1), {"code": "512099001001", "name": "红星村"}),
            (box(104.05, 30.0, 104.1, 30.1), {"code": "512099001001", "name": "红星村"}),
        ],
    )
    before = snapshot()
    result = runner.invoke(["areas", "import", str(path), "--level", "village"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ValidationError)
    assert snapshot() == before
