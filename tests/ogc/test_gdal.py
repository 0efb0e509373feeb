"""GDAL reads the OGC API of a running server: every layer, with bbox filtering and paging.

`ogrinfo OAPIF:` and `ogr2ogr` are Debian's gdal-bin (installed by `make test`); the token
travels as GDAL_HTTP_HEADERS, the way a GIS user would pass it.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from fieldwatch.ogc.layers import LAYERS

OGRINFO = shutil.which("ogrinfo") or "/usr/bin/ogrinfo"
OGR2OGR = shutil.which("ogr2ogr") or "/usr/bin/ogr2ogr"
GEOMETRY = {"MultiPolygon": "Multi Polygon", "Point": "Point", "MultiPoint": "Multi Point"}
#: each layer's rows, counted straight from the tables
COUNTS = {
    "townships": "SELECT count(*) FROM areas WHERE level = 'township'",
    "villages": "SELECT count(*) FROM areas WHERE level = 'village'",
    "village_offices": "SELECT count(*) FROM areas WHERE level = 'village' AND location IS NOT NULL",
    "stations": "SELECT count(*) FROM stations",
    "issues": "SELECT count(*) FROM issues",
    "visits": "SELECT count(*) FROM visits",
    "followups": "SELECT count(*) FROM followups",
}
OGR_TYPES = {
    "string": "String",
    "integer": "Integer",
    "number": "Real",
    "boolean": "Integer(Boolean)",
    "date": "Date",
    "date-time": "DateTime",
}
PERSONAL = ("王小明", "13800001111", "赵督办", "13700000000", "李四", "13912345678")


class Gdal:
    def __init__(self, server, token: str):
        self.server = server
        self.url = f"OAPIF:{server.url}/ogc"
        self.header = f"Authorization: Bearer {token}"
        self.engine = sa.create_engine(server.database_url)

    def run(self, tool: str, *args: str, token: bool = True, debug: bool = False):
        command = [tool]
        if token:
            command += ["--config", "GDAL_HTTP_HEADERS", self.header]
        if debug:
            command += ["--config", "CPL_DEBUG", "ON"]
        command += list(args)
        env = {"PATH": "/usr/bin:/bin", "NO_PROXY": "*", "no_proxy": "*", "HOME": "/tmp"}
        return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()


@pytest.fixture(scope="module")
def gdal(module_live_server):
    if not Path(OGRINFO).exists():
        pytest.fail("ogrinfo is missing: install Debian's gdal-bin (make test does)")
    seeded = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("seed_live.py"))],
        env=module_live_server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    made = module_live_server.cli("users", "token", "admin")
    assert made.returncode == 0, made.stderr
    tool = Gdal(module_live_server, made.stdout.strip().splitlines()[-1])
    yield tool
    tool.engine.dispose()


def _features(output: str, layer: str) -> int:
    return len(re.findall(rf"^OGRFeature\({layer}\):", output, re.M))


def _item_fetches(stderr: str, layer: str) -> list[str]:
    return re.findall(rf"HTTP: Fetch\((\S*/collections/{layer}/items\S*)\)", stderr)


def test_ogrinfo_lists_every_collection_and_needs_the_token(gdal):
    listed = gdal.run(OGRINFO, "-ro", "-q", gdal.url)
    assert listed.returncode == 0, listed.stderr
    for layer in LAYERS.values():
        assert re.search(rf"^\d+: {layer.id}\b", listed.stdout, re.M), listed.stdout
    refused = gdal.run(OGRINFO, "-ro", "-q", gdal.url, token=False)
    assert refused.returncode != 0
    assert "401" in refused.stderr or "sign in" in refused.stderr


@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_ogrinfo_reads_every_collection_with_a_stable_schema(gdal, layer_id):
    layer = LAYERS[layer_id]
    expected = gdal.scalar(COUNTS[layer_id])
    assert expected > 0, f"no {layer_id} to read: the seed did not run"
    summary = gdal.run(OGRINFO, "-ro", "-so", gdal.url, layer_id)
    assert summary.returncode == 0, summary.stderr
    assert f"Geometry: {GEOMETRY[layer.geometry_type]}" in summary.stdout
    assert f"Feature Count: {expected}" in summary.stdout
    fields = re.findall(r"^(\w+): (\S+) \(", summary.stdout.split("axis mapping")[-1], re.M)
    # the JSON Schema gives GDAL each field's name, order and type
    assert fields == [(p.name, OGR_TYPES[p.type]) for p in layer.properties]
    # every feature, in pages of 50
    full = gdal.run(OGRINFO, "-ro", "-al", "-oo", "PAGE_SIZE=50", gdal.url, layer_id)
    assert full.returncode == 0, full.stderr
    assert _features(full.stdout, layer_id) == expected
    for secret in PERSONAL:
        assert secret not in full.stdout, secret


def test_small_pages_add_up_to_the_table(gdal):
    total = gdal.scalar(COUNTS["issues"])
    page = 7
    result = gdal.run(
        OGRINFO, "-ro", "-al", "-q", "-oo", f"PAGE_SIZE={page}", gdal.url, "issues", debug=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert _features(result.stdout, "issues") == total
    fetches = _item_fetches(result.stderr, "issues")
    offsets = sorted({int(m) for url in fetches for m in re.findall(r"offset=(\d+)", url)})
    # GDAL followed our next links, one page after another
    assert offsets == list(range(page, total, page))
    assert len([u for u in fetches if "offset=" in u]) == math.ceil(total / page) - 1
    refs = re.findall(r"^\s+ref \(String\) = (FW-\d{4}-\d{6})$", result.stdout, re.M)
    assert len(refs) == len(set(refs)) == total


def test_spatial_filter_is_sent_as_bbox_and_matches_the_database(gdal):
    x1, y1, x2, y2 = gdal.scalar(
        "SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)] FROM "
        "(SELECT ST_Extent(location) e FROM issues) s"
    )
    # margins keep every point off the edges (GeoJSON carries 7 decimals)
    west = (x1 - 0.01, y1 - 0.01, round((x1 + x2) / 2, 3) + 0.00005, y2 + 0.01)
    envelope = "ST_MakeEnvelope(:a, :b, :c, :d, 4326)"
    box = dict(zip("abcd", west, strict=True))
    expected = gdal.scalar(
        f"SELECT count(*) FROM issues WHERE ST_Intersects(location, {envelope})", **box
    )
    assert 0 < expected < gdal.scalar(COUNTS["issues"])
    args = ["-spat", *map(str, west)]
    result = gdal.run(OGRINFO, "-ro", "-al", "-q", *args, gdal.url, "issues", debug=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _features(result.stdout, "issues") == expected
    fetches = _item_fetches(result.stderr, "issues")
    assert fetches and all("bbox=" in url for url in fetches[1:]), fetches
    # polygons too: villages whose boundary meets the box
    expected = gdal.scalar(
        f"SELECT count(*) FROM areas WHERE level = 'village' AND ST_Intersects(boundary, {envelope})",
        **box,
    )
    result = gdal.run(OGRINFO, "-ro", "-al", "-q", *args, gdal.url, "villages")
    assert result.returncode == 0, result.stderr[-2000:]
    assert _features(result.stdout, "villages") == expected > 0


def test_ogr2ogr_copies_a_layer_to_geojson(gdal, tmp_path):
    out = tmp_path / "issues.geojson"
    result = gdal.run(OGR2OGR, "-f", "GeoJSON", str(out), gdal.url, "issues")
    assert result.returncode == 0, result.stderr
    copied = json.loads(out.read_text())
    assert len(copied["features"]) == gdal.scalar(COUNTS["issues"])
    refs = {f["properties"]["ref"] for f in copied["features"]}
    with gdal.engine.connect() as conn:
        assert refs == set(conn.execute(sa.text("SELECT ref FROM issues")).scalars())
    assert all(f["geometry"]["type"] == "Point" for f in copied["features"])
    text = out.read_text()
    for secret in PERSONAL:
        assert secret not in text, secret
