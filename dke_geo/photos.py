"""Photos: the public copy with every piece of metadata removed.

A photo's EXIF can carry the GPS position, the time, the camera's serial number and the owner's name;
none of it may reach the public. `public_jpeg` re-encodes the pixels only (after turning the image
upright by its EXIF orientation), so no EXIF, XMP, ICC profile or comment can survive.
"""
from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from dke_geo.errors import DkeError

PUBLIC_MAX_SIDE = 1600


class PhotoError(DkeError):
    key = "public.error.photo"


def public_jpeg(data: bytes, max_side: int = PUBLIC_MAX_SIDE) -> tuple[bytes, int, int]:
    """A JPEG of `data`'s pixels only, upright, at most `max_side` pixels wide or high: (bytes, width, height)."""
    try:
        with Image.open(io.BytesIO(data)) as source:
            upright = ImageOps.exif_transpose(source).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise PhotoError() from exc
    upright.thumbnail((max_side, max_side))
    clean = Image.new("RGB", upright.size)
    clean.paste(upright)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue(), clean.width, clean.height
