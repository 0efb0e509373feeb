"""Small generated pictures for the demo county and for tests (no files shipped).

`sample_image(...)` draws a little picture and, when asked, writes the EXIF a
phone camera would: a GPS point (degrees/minutes/seconds rationals with N/S/E/W
references), DateTimeOriginal and an orientation.
"""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image, ImageDraw

GPS_IFD = 0x8825
EXIF_IFD = 0x8769


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return float(degrees), float(minutes), seconds


def camera_exif(
    lonlat: tuple[float, float] | None = None,
    taken_at: datetime | None = None,
    orientation: int | None = None,
    make: str | None = "FieldCam",
) -> Image.Exif:
    """Return EXIF as a phone writes it (GPS IFD, Exif IFD DateTimeOriginal, orientation)."""
    exif = Image.Exif()
    if make:
        exif[0x010F] = make  # Make: one of the things stripping must remove
    if orientation:
        exif[0x0112] = orientation
    if lonlat is not None:
        lon, lat = lonlat
        gps = exif.get_ifd(GPS_IFD)
        gps.update(
            {1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W", 4: _dms(lon)}
        )
    if taken_at is not None:
        exif.get_ifd(EXIF_IFD)[36867] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    return exif


def sample_image(
    fmt: str = "JPEG",
    size: tuple[int, int] = (96, 64),
    colour: tuple[int, int, int] = (70, 120, 160),
    label: str = "",
    lonlat: tuple[float, float] | None = None,
    taken_at: datetime | None = None,
    orientation: int | None = None,
) -> bytes:
    """Return a small picture's bytes (JPEG, PNG or WEBP), with camera EXIF if asked."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((w // 8, h // 3, w - w // 8, h - h // 6), outline=(250, 250, 250), width=2)
    draw.line((0, h - 1, w, h // 2), fill=(40, 40, 40), width=3)
    if label:
        draw.text((4, 4), label, fill=(255, 255, 255))
    out = io.BytesIO()
    options = {}
    if lonlat is not None or taken_at is not None or orientation is not None:
        options["exif"] = camera_exif(lonlat, taken_at, orientation)
    image.save(out, fmt, **options)
    return out.getvalue()
