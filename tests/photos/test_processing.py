"""Checking uploads by content, reading EXIF, stripping it: with small real images made here."""

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from PIL import Image

from fieldwatch.errors_core import ValidationError
from fieldwatch.photos import processing
from fieldwatch.photos.samples import sample_image

SHANGHAI = timezone(timedelta(hours=8))


def test_reads_gps_with_references_and_time_then_strips_everything():
    raw = sample_image(
        lonlat=(-104.0345, -30.0525), taken_at=datetime(2026, 3, 10, 9, 15), size=(80, 60)
    )
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the input really has GPS
    photo = processing.process(raw, zone=SHANGHAI)
    lon, lat = photo.exif_lonlat
    assert lon == pytest.approx(-104.0345, abs=1e-6)  # W: negative
    assert lat == pytest.approx(-30.0525, abs=1e-6)  # S: negative
    assert photo.taken_at == datetime(2026, 3, 10, 1, 15, tzinfo=UTC)  # local time, no offset
    assert (photo.ext, photo.content_type) == ("jpg", "image/jpeg")
    cleaned = Image.open(io.BytesIO(photo.data))
    assert cleaned.format == "JPEG"
    assert len(cleaned.getexif()) == 0
    assert b"Exif" not in photo.data and b"FieldCam" not in photo.data
    assert b"FieldCam" in raw
    thumb = Image.open(io.BytesIO(photo.thumb))
    assert thumb.format == "JPEG" and max(thumb.size) <= processing.THUMB_SIDE


def test_orientation_is_applied_before_stripping():
    raw = sample_image(size=(80, 40), orientation=6)  # "rotate 90° clockwise to view"
    photo = processing.process(raw)
    assert (photo.width, photo.height) == (40, 80)
    assert photo.exif_lonlat is None and photo.taken_at is None


def test_zero_zero_gps_means_no_fix():
    photo = processing.process(sample_image(lonlat=(0.0, 0.0)))
    assert photo.exif_lonlat is None


def test_png_and_webp_are_accepted_and_keep_their_format():
    png = processing.process(sample_image("PNG"))
    webp = processing.process(sample_image("WEBP"))
    assert (png.ext, png.content_type) == ("png", "image/png")
    assert (webp.ext, webp.content_type) == ("webp", "image/webp")
    assert Image.open(io.BytesIO(webp.data)).format == "WEBP"


def test_data_appended_after_the_image_is_dropped():
    raw = sample_image() + b"<?php system($_GET['x']); ?>"
    photo = processing.process(raw)
    assert b"php" not in photo.data


def test_same_content_same_hash():
    raw = sample_image(colour=(1, 2, 3))
    assert processing.process(raw).sha256 == processing.process(raw).sha256


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"GIF89a" + b"\x00" * 100, "JPEG、PNG 或 WebP"),
        (b"%PDF-1.7\n...", "JPEG、PNG 或 WebP"),
        (b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 20, "不是有效的图片"),  # fake JPEG
        (sample_image(size=(200, 200))[:300], "不是有效的图片"),  # truncated
        (b"", "空文件"),
    ],
    ids=["gif", "pdf", "fake-jpeg", "truncated-jpeg", "empty"],
)
def test_refused_with_a_message(raw, words):
    with pytest.raises(ValidationError) as caught:
        processing.process(raw)
    assert words in caught.value.errors["photo"][0]


def test_png_named_as_jpeg_content_wins():
    # the extension or the browser's content type say nothing: the bytes decide
    photo = processing.process(sample_image("PNG"))
    assert photo.ext == "png"


def test_too_big_is_refused_before_decoding():
    raw = sample_image(size=(300, 300))
    with pytest.raises(ValidationError) as caught:
        processing.process(raw, max_bytes=len(raw) - 1)
    assert "太大" in caught.value.errors["photo"][0]
    assert processing.process(raw, max_bytes=len(raw)).width == 300
