"""Bad input, site-wide: NUL characters, lone surrogates, wrong encodings, absurd
coordinates, broken GeoJSON and huge payloads get a 4xx with a message, never a 500."""

from __future__ import annotations

import io
import json

import pytest

from fieldwatch.api.errors import error_body


def assert_json_error(response, status: int | tuple) -> dict:
    """Check a 4xx in our shape (GeoReport's [{code, description}] under /open311)."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (
        response.status_code,
        response.get_data(as_text=True)[:500],
    )
    body = response.get_json()
    if request_path(response).startswith("/open311"):
        assert isinstance(body, list) and body[0]["code"] == response.status_code, body
        assert body[0]["description"]
        return {"message": body[0]["description"], "errors": {"_": [body[0]["description"]]}}
    assert set(error_body(400, "")) <= set(body), body
    assert body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def request_path(response) -> str:
    return response.request.path if response.request is not None else ""


@pytest.fixture
def admin(client, login_as, small_county):
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"  # cookie writes from our pages
    return login_as("admin")


@pytest.fixture
def issue(app, small_county, make_user):
    from fieldwatch.extensions import db
    from fieldwatch.issues.services import report_issue

    made, _ = report_issue(
        reporter=make_user("member"), title="井盖松动", category="roads", lon=104.02, lat=30.05
    )
    db.session.commit()
    return made


# --- NUL characters, lone surrogates, invalid UTF-8 ------------------------------------
NUL_QUERIES = [
    "/api/v1/followups?township=%00",
    "/api/v1/followups?state=due&unit=a%00b",
    "/api/v1/issues?category=%00",
    "/api/v1/issues/nearby?lon=104&lat=30&category=%00",
    "/api/v1/areas?parent=%00",
    "/api/v1/map/search?q=%00",
    "/api/v1/stations?township=%ED%A0%80",  # a lone surrogate, UTF-8-ish encoded
    "/api/v1/issues?status=%FF%FE",  # not UTF-8
    "/ogc/collections/issues/items?bbox=%00",
    "/open311/v2/requests.json?service_code=%00",
    "/api/v1/issues/FW%00",
    "/ogc/collections/iss%00ues/items",
    "/open311/v2/requests/FW-2026%00.json",
    "/tiles/issues/1/0/0%00.pbf",
]


@pytest.mark.parametrize("url", NUL_QUERIES)
def test_nul_and_undecodable_text_in_urls_is_refused_in_our_shape(client, admin, url):
    body = assert_json_error(client.get(url), (400, 422))
    assert body["errors"], body


@pytest.mark.parametrize(
    "url",
    ["/issues?q=%00", "/areas/%00", "/issues/FW%00", "/visits/?q=%FF", "/login?next=%00"],
)
def test_browsers_get_a_page_for_the_same(client, admin, url):
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.status_code in (400, 422)
    assert response.mimetype == "text/html"
    assert "NUL" in response.get_data(as_text=True) or "UTF-8" in response.get_data(as_text=True)


def test_schemathesis_findings_nul_in_followup_issue_id(client, admin, issue):
    response = client.post("/api/v1/followups", json={"issue_id": "\x00", "due_on": "2026-12-01"})
    body = assert_json_error(response, 422)
    assert "issue_id" in body["errors"]
    response = client.post(
        "/api/v1/followups", json={"issue_id": issue.ref + "\ud800", "due_on": "2026-12-01"}
    )
    assert_json_error(response, 422)


def test_every_bad_field_is_named(client, admin, issue):
    body = {
        "title": "a\x00b",
        "category": "ro\x00ads",
        "lon": 104.02,
        "lat": 30.05,
        "address": "ok",
    }
    response = client.post("/api/v1/issues", json=body)
    assert set(assert_json_error(response, 422)["errors"]) == {"title", "category"}
    response = client.post(
        f"/api/v1/issues/{issue.id}/photos",
        data={"client_id": "a\x00", "note": "b\x00"},
        content_type="multipart/form-data",
    )
    assert set(assert_json_error(response, 422)["errors"]) == {"client_id", "note"}


def test_nul_in_nested_json_names_the_field(client, admin, issue):
    response = client.post(
        f"/api/v1/issues/{issue.id}/transitions", json={"to": "accepted", "note": ["ok", "a\x00"]}
    )
    body = assert_json_error(response, 422)
    assert "note.1" in body["errors"]
    response = client.post(f"/api/v1/issues/{issue.id}/comments", json={"no\x00te": "x"})
    assert_json_error(response, 422)


def test_schemathesis_findings_photo_upload_with_nul_fields_and_idents(client, admin, issue):
    from fieldwatch.photos.samples import sample_image

    for ident, client_id in ((issue.id, "a\x00b"), ("FW\x00", "x")):
        response = client.post(
            f"/api/v1/issues/{ident}/photos",
            data={"photo": (io.BytesIO(sample_image()), "a.jpg"), "client_id": client_id},
            content_type="multipart/form-data",
        )
        assert_json_error(response, (400, 422))


def test_form_posts_with_nul_or_gbk_are_refused_with_a_page(client, admin):
    # a person's form keeps what they typed, less the invisible NUL (tests/issues covers it)
    response = client.post("/issues/new", data={"title": "路灯\x00坏了"})
    text = response.get_data(as_text=True)
    # field errors for what is missing, the typed text kept
    assert response.status_code in (200, 422) and 'value="路灯坏了"' in text
    assert "NUL" not in text
    gbk = b"title=" + "路灯坏了".encode("gbk")
    response = client.post(
        "/issues/new", data=gbk, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)
    raw = (
        b'--XX\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
        + "路灯坏了".encode("gbk")
        + b"\r\n--XX--\r\n"
    )
    response = client.post("/issues/new", data=raw, content_type="multipart/form-data; boundary=XX")
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)


@pytest.mark.parametrize("encoding", ["gbk", "latin-1", "utf-16"])
def test_json_in_another_encoding_is_a_400_with_a_message(client, admin, encoding):
    raw = json.dumps(
        {"title": "路灯坏了 café", "category": "roads", "lon": 104.02, "lat": 30.05},
        ensure_ascii=False,
    ).encode(encoding, errors="replace")
    response = client.post("/api/v1/issues", data=raw, content_type="application/json")
    body = assert_json_error(response, (400, 422))
    assert "UTF-8" in body["message"] or response.status_code == 422


def test_open311_form_post_in_gbk(client, make_user, token_for, small_county):
    from fieldwatch.auth.services import issue_token
    from fieldwatch.extensions import db

    key = issue_token(make_user("member"))
    db.session.commit()
    raw = (
        f"api_key={key}&service_code=roads&lat=30.05&long=104.02&description=".encode()
        + "井盖松动".encode("gbk")
    )
    response = client.post(
        "/open311/v2/requests.json", data=raw, content_type="application/x-www-form-urlencoded"
    )
    body = assert_json_error(response, 400)
    assert "UTF-8" in body["message"]


def test_good_chinese_text_still_passes(client, admin, issue):
    response = client.post(
        f"/api/v1/issues/{issue.id}/comments", json={"note": "已到现场查看 ✓ 😀"}
    )
    assert response.status_code == 201, response.get_json()
    assert client.get("/api/v1/map/search?q=%E4%BA%95%E7%9B%96").status_code == 200


# --- absurd coordinates -------------------------------------------------------------
ABSURD = ["500", "-181", "NaN", "nan", "Infinity", "-inf", "1e308", "abc", "", "0x10"]
#: fine as a longitude, absurd as a latitude
ABSURD_LAT = ["-91", "91", "180"]
POINT_GETS = [
    "/api/v1/areas/at?lon={lon}&lat={lat}",
    "/api/v1/issues/nearby?lon={lon}&lat={lat}",
    "/api/v1/places/history?lon={lon}&lat={lat}",
]


@pytest.mark.parametrize("value", ABSURD)
@pytest.mark.parametrize("url", POINT_GETS)
def test_absurd_points_in_queries(client, admin, url, value):
    for lon, lat in ((value, "30.05"), ("104.02", value)):
        response = client.get(url.format(lon=lon, lat=lat))
        assert_json_error(response, (400, 422))


@pytest.mark.parametrize("value", ABSURD_LAT)
@pytest.mark.parametrize("url", POINT_GETS)
def test_absurd_latitudes_in_queries(client, admin, url, value):
    for lon, lat in (("104.02", value),):
        response = client.get(url.format(lon=lon, lat=lat))
        assert_json_error(response, (400, 422))


BBOXES = ["500,30,104,31", "104,-91,105,30", "NaN,30,105,31", "104,30,Infinity,31",
          "1e308,30,105,31", "a,b,c,d", "104,30,105", "104,31,105,30", "", ",,,", "104,30,105,31,1,2,3"]  # fmt: skip
BBOX_GETS = [
    "/api/v1/issues?bbox={b}",
    "/api/v1/stations?bbox={b}",
    "/api/v1/visits/candidates?bbox={b}",
    "/api/v1/map/layers/issues?bbox={b}",
    "/ogc/collections/issues/items?bbox={b}",
    "/ogc/collections/townships/items?bbox={b}",
]


@pytest.mark.parametrize("bbox", BBOXES)
@pytest.mark.parametrize("url", BBOX_GETS)
def test_absurd_bboxes(client, admin, url, bbox):
    response = client.get(url.format(b=bbox))
    if bbox == "":
        assert response.status_code < 500
        return
    assert_json_error(response, (400, 422))


ABSURD_JSON = [500, -181, "NaN", "Infinity", 1e308, "abc", None, [1], {"a": 1}, True, ""]


@pytest.mark.parametrize("value", ABSURD_JSON + ["lat:-91", "lat:90.5"])
def test_absurd_points_in_bodies(client, admin, value):
    if isinstance(value, str) and value.startswith("lat:"):
        pairs = ((104.02, float(value[4:])),)
    else:
        pairs = ((value, 30.05), (104.02, value))
    for lon, lat in pairs:
        issue = {"title": "坑", "category": "roads", "lon": lon, "lat": lat}
        assert_json_error(client.post("/api/v1/issues", json=issue), (400, 422))
        station = {"name": "站", "kind": "rural", "lon": lon, "lat": lat}
        assert_json_error(client.post("/api/v1/stations", json=station), (400, 422))
        route = {"stops": [{"lon": lon, "lat": lat}, {"lon": 104.0, "lat": 30.0}]}
        assert_json_error(client.post("/api/v1/visits/route", json=route), (400, 422))


def test_raw_nan_and_infinity_tokens_in_json(client, admin, issue):
    for token in ("NaN", "Infinity", "-Infinity", "1e999"):
        raw = f'{{"title": "坑", "category": "roads", "lon": {token}, "lat": 30.05}}'
        response = client.post("/api/v1/issues", data=raw, content_type="application/json")
        assert_json_error(response, (400, 422))
        raw = f'{{"finding": "solved", "lon": {token}, "lat": 30.05}}'
        response = client.post(
            "/api/v1/followups/1/record", data=raw, content_type="application/json"
        )
        assert_json_error(response, (400, 404, 422))


@pytest.mark.parametrize(
    "lon,lat", [("500", "30"), ("104", "-91"), ("nan", "30"), ("inf", "30"), ("x", "y")]
)
def test_absurd_points_in_open311(client, make_user, small_county, lon, lat):
    from fieldwatch.auth.services import issue_token
    from fieldwatch.extensions import db

    key = issue_token(make_user("member"))
    db.session.commit()
    form = {"api_key": key, "service_code": "roads", "lat": lat, "long": lon, "description": "坑"}
    assert_json_error(client.post("/open311/v2/requests.json", data=form), (400, 422))


# --- broken GeoJSON --------------------------------------------------------------------
BOWTIE = (
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "512099003000", "name": "x"},'
    b' "geometry": {"type": "Polygon", "coordinates": [[[104, 30], [105, 31], [104, 31], [105, 30], [104, 30]]]}}]}'
)
BROKEN_GEOJSON = [
    b"",
    b"not json",
    b"\xff\xfe\x00garbage",
    b'{"type": "FeatureCollection"}',
    b'{"type": "FeatureCollection", "features": "nope"}',
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null, "properties": {}}]}',
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "512099003000", "name": "x"},'
    b' "geometry": {"type": "Polygon", "coordinates": [[[500, 30], [501, 30], [501, 31], [500, 30]]]}}]}',
    BOWTIE,
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "512099003000", "name": "x"},'
    b' "geometry": {"type": "Polygon", "coordinates": [[[104, 30], [105]]]}}]}',
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "512099003000", "name": "x"},'
    b' "geometry": {"type": "Point", "coordinates": ["a", "b"]}}]}',
    b"[1, 2, 3]",
    b'{"type": "FeatureCollection", "features": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
]


@pytest.mark.parametrize("raw", BROKEN_GEOJSON, ids=range(len(BROKEN_GEOJSON)))
def test_broken_geojson_on_the_area_import_page(client, admin, raw):
    from sqlalchemy import func, select

    from fieldwatch.extensions import db
    from fieldwatch.models import Area

    before = db.session.scalar(select(func.count(Area.id)))
    response = client.post(
        "/areas/import",
        data={"file": (io.BytesIO(raw), "townships.geojson"), "level": "township"},
        content_type="multipart/form-data",
    )
    text = response.get_data(as_text=True)
    if raw is BOWTIE:  # a self-crossing ring is repaired (make_valid), not refused
        assert response.status_code == 302, text[:300]
        assert db.session.scalar(
            select(func.ST_IsValid(Area.boundary)).where(Area.code == "512099003000")
        )
        return
    assert response.status_code in (200, 400, 422), response.status_code
    assert "Traceback" not in text
    assert (
        'class="invalid-feedback' in text or "alert-danger" in text or response.status_code >= 400
    )
    assert db.session.scalar(select(func.count(Area.id))) == before


@pytest.mark.parametrize("raw", [g for g in BROKEN_GEOJSON[:10] if g is not BOWTIE], ids=range(9))
def test_broken_geojson_on_the_import_command(runner, small_county, tmp_path, raw):
    from fieldwatch.cli import _register_feature_commands

    _register_feature_commands()  # as `fieldwatch` itself does
    path = tmp_path / "broken.geojson"
    path.write_bytes(raw)
    result = runner.invoke(["areas", "import", str(path), "--level", "township"])
    assert result.exit_code != 0
    assert "No such command" not in result.output
    # a domain error with a message (`fieldwatch` prints it as one line), or click's usage error
    from fieldwatch.errors_core import FieldwatchError

    if isinstance(result.exception, FieldwatchError):
        assert result.exception.message and result.exception.status < 500
    else:
        assert isinstance(result.exception, SystemExit) and result.output.strip(), result.exception
    assert "Traceback" not in result.output


# --- huge payloads -------------------------------------------------------------------
def test_a_body_over_max_content_length_is_413_in_our_shape(app, client, admin):
    app.config["MAX_CONTENT_LENGTH"], saved = 64 * 1024, app.config["MAX_CONTENT_LENGTH"]
    try:
        big = {
            "title": "x",
            "category": "roads",
            "lon": 104,
            "lat": 30,
            "description": "长" * 100_000,
        }
        body = assert_json_error(client.post("/api/v1/issues", json=big), 413)
        assert body["error"] == "too_large"
        response = client.post(
            "/issues/new",
            data={"title": "x", "photos": (io.BytesIO(b"\xff" * 200_000), "a.jpg")},
            content_type="multipart/form-data",
            headers={"Accept": "text/html"},
        )
        assert response.status_code == 413
        assert response.mimetype == "text/html"
    finally:
        app.config["MAX_CONTENT_LENGTH"] = saved


@pytest.mark.parametrize(
    "url,body",
    [
        (
            "/api/v1/issues",
            {"title": "长" * 5000, "category": "roads", "lon": 104.02, "lat": 30.05},
        ),
        ("/api/v1/issues", {"title": "t", "category": "roads" * 1000, "lon": 104.02, "lat": 30.05}),
        (
            "/api/v1/issues",
            {
                "title": "t",
                "category": "roads",
                "lon": 104.02,
                "lat": 30.05,
                "client_id": "c" * 5000,
            },
        ),
        (
            "/api/v1/issues",
            {
                "title": "t",
                "category": "roads",
                "lon": 104.02,
                "lat": 30.05,
                "description": "长" * 200_001,
            },
        ),
        ("/api/v1/stations", {"name": "站" * 5000, "kind": "rural", "lon": 104.02, "lat": 30.05}),
        ("/api/v1/visits", {"title": "题" * 5000, "form": "meeting", "planned_for": "2026-12-01"}),
        ("/api/v1/followups", {"issue_id": "FW-" + "9" * 5000, "due_on": "2026-12-01"}),
    ],
)
def test_huge_strings_in_fields_are_422(client, admin, url, body):
    assert_json_error(client.post(url, json=body), (404, 422))


def test_huge_comment_is_422(client, admin, issue):
    response = client.post(f"/api/v1/issues/{issue.id}/comments", json={"note": "长" * 200_001})
    assert_json_error(response, 422)


def test_schemathesis_finding_multipart_part_with_an_unreadable_name(client, admin, issue):
    """A part whose header holds a newline has no name (None): a 4xx, not a 500."""
    raw = (
        b'--B\r\nContent-Disposition: form-data; name="\n\xc2\xbd"\r\n\r\nnull\r\n'
        b'--B\r\nContent-Disposition: form-data; name="x"\r\n\r\n[-68, "\\udaf2"]\r\n--B--\r\n'
    )
    for ident in ("%C2%B5%C2%AE%C2%A1", issue.id):
        response = client.post(
            f"/api/v1/issues/{ident}/photos",
            data=raw,
            content_type="multipart/form-data; boundary=B",
        )
        assert_json_error(response, (400, 404, 422))


# --- paging and the open standards' query parameters ----------------------------------
HUGE = "1779596508235663409152"  # past a bigint (schemathesis found GET /api/v1/areas?offset=...)


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/areas?offset={HUGE}",
        f"/api/v1/areas?limit={HUGE}",
        f"/api/v1/issues?offset={HUGE}",
        f"/api/v1/stations?offset={HUGE}",
        f"/api/v1/followups?offset={HUGE}",
        f"/api/v1/visits?offset={HUGE}",
        f"/api/v1/map/layers/issues?bbox=104,30,104.1,30.1&zoom=14&offset={HUGE}",
        "/api/v1/issues?offset=-1",
        "/api/v1/issues?limit=0",
        "/api/v1/issues/nearby?lon=104&lat=30&radius=1e308",
        "/api/v1/issues/nearby?lon=104&lat=30&radius=-5",
    ],
)
def test_huge_and_negative_paging_is_422(client, admin, url):
    assert_json_error(client.get(url), (400, 422))


OGC_BAD = [
    "limit=0", "limit=-1", "limit=abc", "limit=1e3", "limit=%00",
    "offset=-1", f"offset={HUGE}", "offset=x",
    "bbox=1,2,3", "bbox=NaN,0,1,1", "bbox=0,0,1,Infinity", "bbox=-200,0,1,1", "bbox=170,0,-170,1",
    "bbox=0,10,1,5", "bbox=1e308,0,1,1",
    "datetime=yesterday", "datetime=2026-13-01T00:00:00Z", "datetime=2026-03-01/2026-01-01",
    "datetime=2026-01-01T25:00:00Z/..", f"datetime={'9' * 40}",
    "f=xml", "bbox-crs=EPSG:3857", "crs=EPSG:4326x", "filter=status='x'", "filter-lang=cql2-text",
    "unknown=1", "status=%ED%A0%80",
]  # fmt: skip


@pytest.mark.parametrize("query", OGC_BAD)
@pytest.mark.parametrize("collection", ["issues", "followups"])
def test_ogc_items_query_parameters(client, admin, collection, query):
    response = client.get(f"/ogc/collections/{collection}/items?{query}")
    body = assert_json_error(response, (400, 422))
    assert body["errors"] or body["message"]


def test_ogc_limit_above_the_maximum_counts_as_the_maximum(client, admin):
    response = client.get(f"/ogc/collections/issues/items?limit={HUGE}")
    assert response.status_code == 200
    assert client.get("/ogc/collections/issues/items?datetime=../..").status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/ogc/collections/issues/items/abc", "/ogc/collections/issues/items/-1",
     f"/ogc/collections/issues/items/{HUGE}", "/ogc/collections/nope/items",
     "/ogc/collections/issues/items/1.5", "/ogc/collections/townships/items/%ED%A0%80"],
)  # fmt: skip
def test_ogc_bad_ids_are_4xx(client, admin, url):
    assert_json_error(client.get(url), (400, 404, 422))


OPEN311_GET_BAD = [
    "status=maybe", "start_date=yesterday", "end_date=2026-13-01", "start_date=2026-03-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
    "start_date=2020-01-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", f"start_date={'9' * 40}",
    "service_request_id=%00", "service_code=%FF",
]  # fmt: skip


@pytest.mark.parametrize("query", OPEN311_GET_BAD)
def test_open311_request_list_parameters(client, make_user, token_for, small_county, query):
    from fieldwatch.auth.services import issue_token
    from fieldwatch.extensions import db

    key = issue_token(make_user("member"))
    db.session.commit()
    response = client.get(f"/open311/v2/requests.json?api_key={key}&{query}")
    assert_json_error(response, (400, 422))


@pytest.mark.parametrize(
    "form",
    [
        {"service_code": "nope", "lat": "30.05", "long": "104.02"},
        {"service_code": "", "lat": "30.05", "long": "104.02"},
        {"service_code": "roads", "lat": "", "long": ""},
        {"service_code": "roads", "lat": "30.05"},
        {"service_code": "roads", "lat": "30.05", "long": "104.02", "description": "长" * 200_000},
        {"service_code": "roads", "lat": "30.05", "long": "104.02", "client_id": "c" * 500},
        {"service_code": "roads", "lat": "30.05", "long": "104.02", "phone": "9" * 500},
        {"service_code": "roads", "lat": "30.05", "long": "104.02", "first_name": "名" * 500},
        {"service_code": "roads", "lat": "30.05", "long": "104.02", "email": "x@" * 300},
    ],
)
def test_open311_post_fields(client, make_user, small_county, form):
    from fieldwatch.auth.services import issue_token
    from fieldwatch.extensions import db

    key = issue_token(make_user("member"))
    db.session.commit()
    response = client.post("/open311/v2/requests.json", data={"api_key": key, **form})
    assert_json_error(response, (400, 422))


@pytest.mark.parametrize(
    "url", ["/open311/v2/requests/nope.json", "/open311/v2/services/nope.json",
            "/open311/v2/requests/FW-2026-000001.xml", f"/open311/v2/requests/{HUGE}.json"]
)  # fmt: skip
def test_open311_unknown_things(client, url):
    assert_json_error(client.get(url), (400, 403, 404))


@pytest.mark.parametrize(
    "tile",
    [
        "issues/99/0/0",
        "issues/3/8/0",
        "issues/3/-1/0",
        f"issues/{HUGE}/0/0",
        "issues/a/b/c",
        "nope/1/0/0",
    ],
)
def test_tile_addresses(client, admin, tile):
    assert_json_error(client.get(f"/tiles/{tile}.pbf"), (400, 404, 422))


# "¹".isdigit() is true but int() refuses it (schemathesis: GET /api/v1/issues/%C2%B9 was a 500)
ODD_DIGITS = [
    "%C2%B9",
    "%EF%BC%91",
    "%D9%A1",
    HUGE,
]  # superscript one, full-width 1, Arabic-Indic 1


@pytest.mark.parametrize("ident", ODD_DIGITS)
def test_digits_that_are_not_ascii_or_too_long_as_ids(client, admin, ident):
    for url in (
        f"/api/v1/issues/{ident}",
        f"/ogc/collections/issues/items/{ident}",
        f"/issues/{ident}",
        f"/api/v1/map/search?q={ident}",
    ):
        response = client.get(url, headers={"Accept": "application/json"})
        assert response.status_code in (200, 400, 404, 422), (url, response.status_code)
        assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("ident", ODD_DIGITS)
def test_odd_digits_in_open311_request_ids(client, make_user, small_county, ident):
    from fieldwatch.auth.services import issue_token
    from fieldwatch.extensions import db

    key = issue_token(make_user("member"))
    db.session.commit()
    response = client.get(f"/open311/v2/requests.json?api_key={key}&service_request_id={ident}")
    assert response.status_code in (200, 400, 404), response.get_data(as_text=True)
    response = client.get(f"/open311/v2/requests/{ident}.json?api_key={key}")
    assert response.status_code in (400, 404), response.get_data(as_text=True)


# --- dates at the ends of the calendar (schemathesis: GET /api/v1/coverage?as_of=0001-02-01) ---
EDGE_DATES = ["0001-01-01", "0001-02-01", "9999-12-31"]


@pytest.mark.parametrize("day", EDGE_DATES)
def test_dates_at_the_ends_of_the_calendar(client, admin, issue, day):
    gets = [
        f"/api/v1/coverage?as_of={day}",
        f"/api/v1/coverage?visited_since={day}",
        f"/api/v1/coverage?as_of={day}&visited_since={day}",
        f"/coverage?as_of={day}",
        f"/coverage?as_of={day}&visited_since={day}",
        f"/coverage.csv?as_of={day}",
        f"/api/v1/visits?from={day}",
        f"/api/v1/visits?to={day}",
        f"/api/v1/visits?from={day}&to={day}",
        f"/visits/?month={day[:7]}",
        f"/followups/?quarter={day[:4]}Q1",
        f"/ogc/collections/issues/items?datetime={day}",
        f"/ogc/collections/issues/items?datetime={day}T00:00:00Z/..",
        f"/ogc/collections/issues/items?datetime=../{day}T23:59:59Z",
        f"/admin/audit?since={day}&until={day}",
        f"/issues?since={day}",
    ]
    for url in gets:
        response = client.get(url, headers={"Accept": "application/json"})
        assert response.status_code in (200, 400, 404, 422), (url, response.status_code)
    posts = [
        ("/api/v1/followups", {"issue_id": issue.id, "due_on": day}),
        ("/api/v1/visits", {"title": "回访", "form": "meeting", "planned_for": day}),
        (f"/api/v1/issues/{issue.id}/transitions", {"to": "accepted"}),
        ("/api/v1/issues", {"title": "t", "category": "roads", "lon": 104.02, "lat": 30.05,
                            "observed_at": f"{day}T00:00:00+14:00"}),
    ]  # fmt: skip
    for url, body in posts:
        response = client.post(url, json=body)
        assert response.status_code in (200, 201, 400, 404, 409, 422), (url, response.status_code)


@pytest.mark.parametrize("day", EDGE_DATES)
def test_open311_dates_at_the_ends_of_the_calendar(client, make_user, small_county, day):
    from fieldwatch.auth.services import issue_token
    from fieldwatch.extensions import db

    key = issue_token(make_user("member"))
    db.session.commit()
    for query in (f"end_date={day}T00:00:00Z", f"start_date={day}T00:00:00Z",
                  f"start_date={day}T00:00:00-12:00&end_date={day}T23:59:59+14:00"):  # fmt: skip
        response = client.get(f"/open311/v2/requests.json?api_key={key}&{query}")
        assert response.status_code in (200, 400), (query, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize("depth", [900, 5000, 100_000])
def test_deeply_nested_json_bodies(client, admin, issue, depth):
    raw = '{"note": ' + "[" * depth + "]" * depth + "}"
    for url in ("/api/v1/issues", f"/api/v1/issues/{issue.id}/comments", "/api/v1/visits/route"):
        response = client.post(url, data=raw, content_type="application/json")
        assert_json_error(response, (400, 422))


@pytest.mark.parametrize(
    "url,form",
    [
        ("/issues/new", {"title": "长" * 5000, "category": "roads", "lon": "104.02", "lat": "30.05",
                         "description": "长" * 100_000}),
        ("/issues/new", {"title": "坑", "category": "roads", "lon": "1e308", "lat": "NaN"}),
        ("/stations/new", {"name": "站" * 5000, "kind": "rural", "lon": "104.02", "lat": "30.05"}),
        ("/stations/new", {"name": "站", "kind": "rural", "lon": "500", "lat": "-91"}),
        ("/visits/plan", {"title": "题" * 5000, "form": "meeting", "planned_for": "2026-12-01"}),
        ("/admin/users/new", {"login": "x" * 5000, "name": "名" * 5000, "role": "member"}),
        ("/admin/categories/new", {"code": "c" * 5000, "name": "名" * 5000}),
        ("/issues?q=" + "长" * 5000, None),
        ("/api/v1/map/search?q=" + "长" * 5000, None),
    ],
)  # fmt: skip
def test_huge_and_absurd_form_values_get_field_errors(client, admin, url, form):
    from sqlalchemy import func, select

    from fieldwatch.extensions import db
    from fieldwatch.models import Issue, Station, User, Visit

    counts = [db.session.scalar(select(func.count(m.id))) for m in (Issue, Station, User, Visit)]
    if form is None:
        response = client.get(url)
    else:
        response = client.post(url, data=form, headers={"Accept": "text/html"})
    assert response.status_code in (200, 400, 422), (url, response.status_code)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    if form is not None:
        assert "is-invalid" in text or "invalid-feedback" in text or "alert-danger" in text, url
    db.session.expire_all()
    assert [
        db.session.scalar(select(func.count(m.id))) for m in (Issue, Station, User, Visit)
    ] == counts
