"""Uploads through HTTP: checked by content, re-encoded, named by the server, served with
the right type and nosniff; no route that serves files walks out of its folder."""

from __future__ import annotations

import io

import pytest

from fieldwatch.photos.samples import sample_image

SCRIPT = b"<html><script>alert(document.cookie)</script></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(2)</script></svg>"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def admin(client, login_as, small_county):
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    return login_as("admin")


@pytest.fixture
def issue(app, small_county, make_user):
    from fieldwatch.extensions import db
    from fieldwatch.issues.services import report_issue

    made, _ = report_issue(
        make_user("member"), title="井盖松动", category="roads", lon=104.02, lat=30.05
    )
    db.session.commit()
    return made


def upload(client, issue, raw: bytes, name: str, content_type: str = "image/jpeg"):
    return client.post(
        f"/api/v1/issues/{issue.id}/photos",
        data={"photo": (io.BytesIO(raw), name, content_type)},
        content_type="multipart/form-data",
    )


def fetch(client, url: str):
    """GET and read the whole body, closing the file a send_file response holds."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize(
    "raw,name,content_type",
    [
        (SVG, "photo.jpg", "image/jpeg"),
        (SVG, "photo.svg", "image/svg+xml"),
        (PDF, "scan.jpg", "image/jpeg"),
        (SCRIPT, "x.jpg", "image/jpeg"),
        (b"\xff\xd8\xff\xe0" + SCRIPT, "fake.jpg", "image/jpeg"),  # a JPEG header, then HTML
        (b"GIF89a" + SCRIPT, "x.gif", "image/gif"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "x.png", "image/png"),
        (b"", "empty.jpg", "image/jpeg"),
    ],
    ids=[
        "svg-as-jpg",
        "svg",
        "pdf-as-jpg",
        "html-as-jpg",
        "jpeg-header-html",
        "gif",
        "broken-png",
        "empty",
    ],
)
def test_files_that_are_not_photos_are_refused_by_content(
    client, admin, issue, raw, name, content_type
):
    from fieldwatch.models import Photo

    response = upload(client, issue, raw, name, content_type)
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert "photo" in body["errors"]
    assert Photo.query.filter_by(issue_id=issue.id).count() == 0


def test_a_real_jpeg_with_html_appended_is_neutralised(client, admin, issue):
    """A polyglot that decodes as a picture is re-encoded: the script does not survive."""
    raw = sample_image("JPEG", size=(80, 60)) + SCRIPT
    response = upload(client, issue, raw, "../../../etc/passwd.html", "text/html")
    assert response.status_code == 201, response.get_data(as_text=True)
    photo = response.get_json()
    served = fetch(client, photo["url"])
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script" not in served.data and b"<html" not in served.data
    thumb = fetch(client, photo["thumb_url"])
    assert thumb.mimetype == "image/jpeg" and b"<script" not in thumb.data


def test_names_are_generated_from_content_not_taken_from_the_client(app, client, admin, issue):
    from pathlib import Path

    from fieldwatch.models import Photo

    raw = sample_image("PNG", size=(40, 30))
    response = upload(client, issue, raw, "..\\..\\evil name.exe", "application/x-msdownload")
    assert response.status_code == 201
    photo = Photo.query.filter_by(issue_id=issue.id).one()
    assert photo.ext == "png" and photo.content_type == "image/png"
    root = Path(app.config["UPLOAD_FOLDER"]).resolve()
    stored = [p for p in root.rglob("*") if p.is_file() and photo.sha256 in p.name]
    assert stored, "the file is named by its hash"
    assert all(p.resolve().is_relative_to(root) for p in stored)
    assert not any("evil" in p.name or p.suffix == ".exe" for p in root.rglob("*"))
    served = fetch(client, f"/photos/{photo.id}")
    assert served.mimetype == "image/png"
    assert "evil" not in served.headers.get("Content-Disposition", "")


def test_the_page_upload_checks_content_too(client, admin, issue):
    from fieldwatch.models import Photo

    response = client.post(
        f"/issues/{issue.ref}/photos",
        data={"photos": (io.BytesIO(SVG), "a.jpg", "image/jpeg")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code in (200, 422)
    assert Photo.query.filter_by(issue_id=issue.id).count() == 0


TRAVERSALS = [
    "/photos/../config.py",
    "/photos/..%2f..%2fsecret_key",
    "/photos/%2e%2e/%2e%2e/etc/passwd",
    "/photos/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/photos//etc/passwd",
    "/photos/%2fetc%2fpasswd",
    "/photos/1%00.jpg",
    "/photos/..\\..\\etc\\passwd",
    "/photos/..%5c..%5cetc%5cpasswd",
    "/photos/-1",
    "/photos/1/../../etc/passwd",
    "/photos/99999999999999999999999",
    "/static/../fieldwatch/config.py",
    "/static/..%2ffieldwatch%2fconfig.py",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/..%5c..%5cetc%5cpasswd",
    "/static/js%00.js",
    "/tiles/..%2f..%2fetc/1/0/0.pbf",
    "/open311/v2/..%2f..%2fetc%2fpasswd",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_no_path_traversal_in_routes_that_serve_files(client, admin, issue, url):
    response = fetch(client, url)
    assert response.status_code in (301, 308, 400, 404, 422), (url, response.status_code)
    body = response.get_data()
    for secret in (b"root:x:0:0", b"SECRET_KEY", b"def from_environment", b"test-secret"):
        assert secret not in body, url
    assert b"Traceback" not in body
    if response.status_code in (301, 308):  # a redirect must stay on this site's own paths
        location = response.headers["Location"]
        assert "etc/passwd" not in location or location.startswith("/static/") is False


def test_every_file_route_sends_nosniff(client, admin, issue):
    raw = sample_image("WEBP", size=(30, 20))
    photo = upload(client, issue, raw, "x.webp", "image/webp").get_json()
    for url in (photo["url"], photo["thumb_url"], "/static/js/" + _a_static_js(), "/sw.js"):
        response = fetch(client, url)
        assert response.status_code == 200, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
    assert fetch(client, photo["url"]).mimetype == "image/webp"


def _a_static_js() -> str:
    from fieldwatch import ROOT

    return sorted(p.name for p in (ROOT / "static" / "js").glob("*.js"))[0]
