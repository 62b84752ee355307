"""Test photos made with Pillow (and pillow-heif for HEIC): no binary files in the repository."""
from __future__ import annotations

import io
import struct
import zlib

import pillow_heif
from PIL import ExifTags, Image

pillow_heif.register_heif_opener()

BLUE, RED = (0, 0, 255), (255, 0, 0)
# A point on a path in Blokland, as a camera writes it: degrees, minutes, seconds.
BLOKLAND_DMS = {"lat": (55.0, 39.0, 36.72), "lon": (12.0, 21.0, 26.28)}
BLOKLAND_GPS = (12.0 + 21 / 60 + 26.28 / 3600, 55.0 + 39 / 60 + 36.72 / 3600)  # (lon, lat)


def exif(orientation: int | None = None, gps: dict | None = None, accuracy_m: float | None = None) -> Image.Exif:
    """EXIF with an orientation, a camera, and optionally a GPS block (N/E refs unless given)."""
    out = Image.Exif()
    out[ExifTags.Base.Make] = "Apple"
    out[ExifTags.Base.Model] = "iPad (testkamera)"
    if orientation:
        out[ExifTags.Base.Orientation] = orientation
    if gps:
        block = out.get_ifd(ExifTags.IFD.GPSInfo)
        block[ExifTags.GPS.GPSLatitudeRef] = gps.get("lat_ref", "N")
        block[ExifTags.GPS.GPSLatitude] = gps["lat"]
        block[ExifTags.GPS.GPSLongitudeRef] = gps.get("lon_ref", "E")
        block[ExifTags.GPS.GPSLongitude] = gps["lon"]
        if accuracy_m is not None:
            block[ExifTags.GPS.GPSHPositioningError] = accuracy_m
    return out


def striped(width: int = 400, height: int = 200) -> Image.Image:
    """Red with a blue band along the left quarter: shows which way the image was turned."""
    img = Image.new("RGB", (width, height), RED)
    img.paste(Image.new("RGB", (width // 4, height), BLUE), (0, 0))
    return img


def noise(width: int, height: int, seed: int = 7) -> Image.Image:
    """Random pixels: a photo that compresses badly, for a file of a few megabytes."""
    import random
    return Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3))


def jpeg(img: Image.Image | None = None, **exif_args) -> bytes:
    out = io.BytesIO()
    (img or striped()).save(out, "JPEG", quality=90, exif=exif(**exif_args))
    return out.getvalue()


def heic(img: Image.Image | None = None, **exif_args) -> bytes:
    out = io.BytesIO()
    (img or striped()).save(out, "HEIF", quality=80, exif=exif(**exif_args).tobytes())
    return out.getvalue()


def png(img: Image.Image | None = None) -> bytes:
    out = io.BytesIO()
    (img or striped()).save(out, "PNG")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30"/></svg>'
"""A drawing, not a photo: given the name of a PNG, it must still be refused."""


def huge_png(side: int = 30_000) -> bytes:
    """A PNG whose header says side x side pixels (900 megapixels: a decompression bomb), made from its chunks alone:
    a few dozen bytes, which nothing should try to decode."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b""))
