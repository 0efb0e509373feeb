"""attach_photo: stored by content hash, idempotent by client_id; served to those who may see the owner."""

import io
from datetime import datetime

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from fieldwatch.errors_core import Conflict, ValidationError
from fieldwatch.extensions import db
from fieldwatch.geo import lonlat_of
from fieldwatch.issues import services as issues
from fieldwatch.models import Photo
from fieldwatch.photos import services, storage
from fieldwatch.photos.samples import sample_image


@pytest.fixture
def issue(app, small_county, make_user):
    member = make_user("member")
    made, _ = issues.report_issue(
        member, title="下水道堵塞", category="drainage", lon=104.02, lat=30.05
    )
    db.session.commit()
    return made


def test_attach_stores_clean_file_and_thumb_and_records_exif(app, issue):
    raw = sample_image(lonlat=(104.021, 30.051), taken_at=datetime(2026, 3, 1, 8, 0))
    upload = FileStorage(io.BytesIO(raw), filename="IMG_0001.JPG", content_type="image/jpeg")
    photo, created = services.attach_photo(issue, upload, issue.reporter, "photo-client-0001")
    db.session.commit()
    assert created and photo.issue_id == issue.id
    path = storage.photo_path(photo.sha256, "jpg")
    assert path.relative_to(storage.root()).as_posix() == f"{photo.sha256[:2]}/{photo.sha256}.jpg"
    assert path.read_bytes()[:3] == b"\xff\xd8\xff"
    with Image.open(path) as stored:
        assert len(stored.getexif()) == 0
    assert storage.thumb_path(photo.sha256).is_file()
    lon, lat = lonlat_of(photo.exif_location)
    assert lon == pytest.approx(104.021) and lat == pytest.approx(30.051)
    assert photo.taken_at.isoformat() == "2026-03-01T00:00:00+00:00"  # 08:00 in Shanghai
    assert services.photos_of(issue) == [photo]


def test_same_client_id_same_user_returns_original_other_user_conflict(app, issue, make_user):
    first, created = services.attach_photo(issue, sample_image(), issue.reporter, "cid-photo-42")
    again, created_again = services.attach_photo(
        issue, sample_image(colour=(9, 9, 9)), issue.reporter, "cid-photo-42"
    )
    assert created and not created_again and again.id == first.id
    with pytest.raises(Conflict):
        services.attach_photo(issue, sample_image(), make_user("member"), "cid-photo-42")
    assert db.session.query(Photo).filter_by(issue_id=issue.id).count() == 1


def test_refused_upload_writes_no_row(app, issue):
    app.config["MAX_PHOTO_BYTES"] = 500
    try:
        with pytest.raises(ValidationError) as caught:
            services.attach_photo(issue, sample_image(size=(400, 300)), issue.reporter)
        assert "太大" in caught.value.errors["photo"][0]
    finally:
        app.config["MAX_PHOTO_BYTES"] = 15 * 1024 * 1024
    with pytest.raises(ValidationError):
        services.attach_photo(issue, b"\xff\xd8\xff\xe0fake", issue.reporter)
    assert services.photos_of(issue) == []


def test_sweep_removes_files_no_row_refers_to(app, issue):
    kept, _ = services.attach_photo(issue, sample_image(colour=(10, 200, 10)), issue.reporter)
    db.session.commit()
    orphan = storage.photo_path("ab" + "0" * 62, "jpg")
    storage.write_atomic(orphan, b"left by a failed transaction")
    stale_temp = storage.root() / "ab" / ".tmp-crashed"
    stale_temp.write_bytes(b"half")
    assert storage.sweep_orphans(min_age_seconds=3600) == 0  # too young to judge
    removed = storage.sweep_orphans(min_age_seconds=0)
    assert removed >= 2
    assert not orphan.exists() and not stale_temp.exists()
    assert storage.photo_path(kept.sha256, kept.ext).exists()
    assert storage.thumb_path(kept.sha256).exists()


def test_served_with_type_nosniff_and_long_cache(client, login_as, issue):
    photo, _ = services.attach_photo(issue, sample_image("PNG"), issue.reporter)
    db.session.commit()
    login_as("leader")
    response = client.get(f"/photos/{photo.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert response.data[:8] == b"\x89PNG\r\n\x1a\n"
    response.close()
    with client.get(f"/photos/{photo.id}/thumb") as thumb:
        assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
        assert thumb.data[:3] == b"\xff\xd8\xff"


def test_not_shown_to_who_may_not_see_the_issue(client, login_as, issue, small_county):
    photo, _ = services.attach_photo(issue, sample_image(), issue.reporter)
    db.session.commit()
    assert client.get(f"/photos/{photo.id}").status_code in (302, 401)  # signed out
    login_as("unit", unit="transport")  # not this issue's unit
    assert client.get(f"/photos/{photo.id}").status_code == 404
    login_as("leader", township=small_county.townships["T2"].code)  # other township
    assert client.get(f"/photos/{photo.id}/thumb").status_code == 404
    assert client.get("/photos/999999").status_code == 404


def test_owner_must_be_issue_visit_or_followup(app, issue):
    with pytest.raises(TypeError):
        services.attach_photo(issue.reporter, sample_image(), issue.reporter)
