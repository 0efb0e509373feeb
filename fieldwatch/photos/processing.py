"""Check an upload by its content, read its EXIF, and re-encode it clean.

`process(raw)` is pure (bytes in, a `ProcessedPhoto` out) and raises
`ValidationError({"photo": [...]})` for anything that is not a decodable JPEG,
PNG or WebP within the size limit. Re-encoding drops EXIF (GPS, serial
numbers), XMP, ICC and comments, and anything appended after the image data;
the orientation is applied to the pixels first, so the picture stays upright.
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from PIL import Image, ImageOps, UnidentifiedImageError

from fieldwatch.errors_core import ValidationError

#: Pillow format -> (file extension, Content-Type)
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
CONTENT_TYPES = {ext: ctype for ext, ctype in FORMATS.values()}
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
#: refuse images that would take too much memory to decode (a "decompression bomb")
MAX_PIXELS = 60_000_000
#: the long side of a stored photo; larger phone pictures are scaled down
MAX_SIDE = 4096
THUMB_SIDE = 320

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
TAG_DATETIME = 306
TAG_DATETIME_ORIGINAL = 36867
TAG_OFFSET_TIME_ORIGINAL = 36881


@dataclass(frozen=True)
class ProcessedPhoto:
    """A checked, cleaned photo and what its EXIF said."""

    data: bytes
    thumb: bytes
    sha256: str
    ext: str
    content_type: str
    width: int
    height: int
    #: when the picture was taken (EXIF DateTimeOriginal), aware; None if unknown
    taken_at: datetime | None
    #: (lon, lat) from the EXIF GPS block; None if absent or meaningless
    exif_lonlat: tuple[float, float] | None


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, {"photo": [message]})


def sniff(raw: bytes) -> str | None:
    """Return the Pillow format name the leading bytes announce (JPEG/PNG/WEBP), or None."""
    if raw[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if raw[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "WEBP"
    return None


def check_size(size: int, max_bytes: int) -> None:
    """Refuse an empty or too large upload."""
    if size == 0:
        raise _refuse("照片是空文件 (the photo is empty)")
    if size > max_bytes:
        limit = max_bytes / (1024 * 1024)
        raise _refuse(f"照片太大，最大 {limit:g} MB (photo too large, at most {limit:g} MB)")


def _decode(raw: bytes, announced: str) -> Image.Image:
    """Open and fully decode `raw`, refusing what is not really an image of that format."""
    fake = _refuse("文件不是有效的图片，可能已损坏 (not a valid image; damaged or fake)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(raw))
            if probe.format != announced:
                raise fake
            if probe.width * probe.height > MAX_PIXELS:
                raise _refuse("图片像素太多 (image has too many pixels)")
            probe.verify()
            image = Image.open(io.BytesIO(raw))
            image.load()  # a truncated file fails here
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise fake from None
    return image


def _rational(value) -> float:
    if isinstance(value, tuple) and len(value) == 2:
        return value[0] / value[1] if value[1] else math.nan
    return float(value)


def _degrees(dms, ref) -> float | None:
    try:
        parts = [_rational(v) for v in dms]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts or len(parts) > 3:
        return None
    parts += [0.0] * (3 - len(parts))
    value = parts[0] + parts[1] / 60 + parts[2] / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    if str(ref or "").strip().upper() in ("S", "W"):
        value = -value
    return value if math.isfinite(value) else None


def exif_lonlat(exif: Image.Exif) -> tuple[float, float] | None:
    """Return (lon, lat) from an EXIF GPS block (degrees/minutes/seconds rationals + refs)."""
    gps = exif.get_ifd(GPS_IFD)
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat = _degrees(gps.get(2), gps.get(1))
    lon = _degrees(gps.get(4), gps.get(3))
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    if lat == 0 and lon == 0:  # cameras write zeros when they had no fix
        return None
    return round(lon, 7), round(lat, 7)


def exif_taken_at(exif: Image.Exif, zone) -> datetime | None:
    """Return DateTimeOriginal (else DateTime) as an aware time; local `zone` if no offset."""
    sub = exif.get_ifd(EXIF_IFD)
    text = sub.get(TAG_DATETIME_ORIGINAL) or exif.get(TAG_DATETIME)
    if not text:
        return None
    if isinstance(text, bytes):
        text = text.decode("ascii", "ignore")
    try:
        naive = datetime.strptime(str(text).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = sub.get(TAG_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str) and len(offset) == 6 and offset[0] in "+-":
        try:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            sign = 1 if offset[0] == "+" else -1
            return naive.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
        except ValueError:
            pass
    return naive.replace(tzinfo=zone)


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        image.save(out, "WEBP", quality=85)
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    if thumb.mode in ("RGBA", "LA", "P"):
        thumb = thumb.convert("RGBA")
        flat = Image.new("RGB", thumb.size, (255, 255, 255))
        flat.paste(thumb, mask=thumb.getchannel("A"))
        thumb = flat
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    return out.getvalue()


def process(raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES, zone=None) -> ProcessedPhoto:
    """Check `raw` by content, read EXIF GPS and time, re-encode without metadata, thumbnail it.

    `zone` (a tzinfo) is where a camera's offset-less EXIF time is taken to be.
    """
    check_size(len(raw), max_bytes)
    announced = sniff(raw)
    if announced is None:
        raise _refuse("只接受 JPEG、PNG 或 WebP 照片 (only JPEG, PNG or WebP photos)")
    image = _decode(raw, announced)
    exif = image.getexif()
    lonlat = exif_lonlat(exif)
    taken_at = exif_taken_at(exif, zone or UTC)
    upright = ImageOps.exif_transpose(image)
    if max(upright.size) > MAX_SIDE:
        upright.thumbnail((MAX_SIDE, MAX_SIDE))
    upright.info.clear()  # nothing rides along (comments, ICC, XMP, EXIF)
    data = _encode(upright, announced)
    ext, content_type = FORMATS[announced]
    return ProcessedPhoto(
        data=data,
        thumb=_thumbnail(upright),
        sha256=hashlib.sha256(data).hexdigest(),
        ext=ext,
        content_type=content_type,
        width=upright.width,
        height=upright.height,
        taken_at=taken_at,
        exif_lonlat=lonlat,
    )
