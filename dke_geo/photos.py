"""Photos of findings: check and decode, turn upright, resize, read EXIF, store the files, make the public copy.

Staff photograph findings with the tablet's camera or upload JPEG, PNG or HEIC (iPads; decoded by
pillow-heif). `process` refuses a file that is over 25 MB, not an image or corrupt (with a message naming the
file), turns it upright by its EXIF orientation and makes a full image of at most 2048 px and a thumbnail,
neither carrying EXIF. Only the original file and the `photos.exif` column keep the EXIF (GPS position, time,
camera), for internal use.

A photo's EXIF can carry the GPS position, the time, the camera's serial number and the owner's name;
none of it may reach the public. `public_jpeg` re-encodes the pixels only (after turning the image
upright by its EXIF orientation), so no EXIF, XMP, ICC profile or comment can survive.

Files live under config.data_dir()/photos/ (folders 0700, files 0600: private_files); the photos table stores
their paths relative to the data folder.
`PhotoFiles` writes them under temporary names and renames them into place inside the database transaction
that stores their rows, so a failed save leaves neither rows nor files.
"""
from __future__ import annotations

import hashlib
import io
import math
import os
import time
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pillow_heif
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from dke_geo import config, private_files
from dke_geo.errors import DkeError
from dke_geo.model import Photo

pillow_heif.register_heif_opener()

PUBLIC_MAX_SIDE = 1600
MAX_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 80_000_000          # a 48 MP iPhone photo passes; a decompression bomb does not
FULL_SIDE = 2048
THUMB_SIDE = 320
_FORMATS = ("JPEG", "PNG", "HEIF", "WEBP")  # what Pillow may try; a multi-picture JPEG opens as "MPO"
ACCEPTED_TYPES = ("jpg", "jpeg", "png", "heic", "heif", "webp")  # the file endings a photo field offers
_EXTENSIONS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "HEIF": ".heic", "WEBP": ".webp"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_IFD_POINTERS = {int(i) for i in ExifTags.IFD}


class PhotoError(DkeError):
    key = "public.error.photo"


@dataclass(frozen=True)
class Upload:
    """A photo file as it came from the browser (camera or upload)."""
    name: str
    data: bytes


@dataclass(frozen=True)
class GpsFix:
    """A position read from a photo's EXIF; accuracy from GPSHPositioningError when the camera wrote it."""
    lon: float
    lat: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class Preview:
    """What the form shows for an attached photo before the finding is saved."""
    thumb: bytes
    gps: GpsFix | None


@dataclass(frozen=True)
class ProcessedPhoto:
    """A checked photo, ready to store: upright JPEGs without EXIF, and the original with its EXIF."""
    name: str
    sha256: str
    full: bytes
    thumb: bytes
    original: bytes
    extension: str
    width: int
    height: int
    exif: dict
    gps: GpsFix | None


def process(upload: Upload) -> ProcessedPhoto:
    """Check and decode `upload`, turn it upright, and make the full image and the thumbnail.

    Raises PhotoError (translatable, naming the file) for a file over 25 MB, not an image or corrupt.

    >>> img = Image.new("RGB", (4000, 1000)); buf = io.BytesIO(); img.save(buf, "PNG")
    >>> p = process(Upload("a.png", buf.getvalue())); (p.width, p.height, p.extension)
    (2048, 512, '.png')
    """
    img = _open(upload, draft=(FULL_SIDE, FULL_SIDE))
    exif = img.getexif()
    exif_json, gps = _exif_json(exif), gps_position(exif)  # read before turning, which drops the orientation tag
    extension = _EXTENSIONS[img.format]
    icc = img.info.get("icc_profile") if img.mode in ("RGB", "RGBA") else None
    ImageOps.exif_transpose(img, in_place=True)
    full = _fit(_rgb(img), FULL_SIDE)
    return ProcessedPhoto(name=upload.name, sha256=hashlib.sha256(upload.data).hexdigest(), full=_encode(full, icc),
                          thumb=_encode(_fit(full, THUMB_SIDE), icc), original=upload.data, extension=extension,
                          width=full.width, height=full.height, exif=exif_json, gps=gps)


def check(upload: Upload) -> None:
    """Raise PhotoError (naming the file) when `upload` would be refused on saving: over 25 MB, not an image
    (an SVG named .png), corrupt, or too many pixels (a 30000x30000 PNG). Whatever keeps a photo before the
    finding is saved (a draft) asks this first, at the cost of a decode at thumbnail scale."""
    _open(upload, draft=(THUMB_SIDE, THUMB_SIDE)).close()


def preview(upload: Upload) -> Preview:
    """A small upright thumbnail and the EXIF GPS position, fast (a JPEG is decoded at reduced scale).
    Raises PhotoError like `process`, so the form can name a bad file as soon as it is attached."""
    img = _open(upload, draft=(THUMB_SIDE, THUMB_SIDE))
    gps = gps_position(img.getexif())
    ImageOps.exif_transpose(img, in_place=True)
    return Preview(_encode(_fit(_rgb(img), THUMB_SIDE), None), gps)


def gps_position(exif: Image.Exif) -> GpsFix | None:
    """The position in an image's EXIF GPS block, or None when there is none (or it is 0,0 or out of range).

    >>> e = Image.Exif(); g = e.get_ifd(ExifTags.IFD.GPSInfo)
    >>> g.update({1: "N", 2: (55.0, 39.0, 36.0), 3: "E", 4: (12.0, 21.0, 0.0)})
    >>> gps_position(e)
    GpsFix(lon=12.35, lat=55.66, accuracy_m=None)
    """
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    try:
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180) or lat == lon == 0:
        return None
    accuracy = _number(gps.get(ExifTags.GPS.GPSHPositioningError))
    return GpsFix(round(lon, 7), round(lat, 7), accuracy if accuracy is not None and accuracy >= 0 else None)


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


def file(stored: str) -> Path:
    """The file for a path stored in the photos table (relative to the data folder)."""
    path = Path(stored)
    return path if path.is_absolute() else config.data_dir() / path


class PhotoFiles:
    """The files of the photos saved with a finding.

    `stage` writes each file under a temporary name; `publish`, called inside the database transaction that
    stores the rows, renames them into place; `discard` removes whatever this object wrote, so a save that
    fails anywhere leaves no files behind (and the transaction leaves no rows).
    """

    def __init__(self):
        self._staged: list[tuple[Path, Path]] = []
        self._placed: list[Path] = []

    def stage(self, observation_id: uuid.UUID, photo: ProcessedPhoto, created_by: str) -> Photo:
        """Write `photo`'s files under temporary names; return its row. The id comes from the finding and the
        file's content, so the same file saved twice with the same finding is one photo."""
        photo_id = uuid.uuid5(observation_id, photo.sha256)
        base = f"photos/{observation_id}/{photo_id}"
        paths = {"full_path": f"{base}.jpg", "thumb_path": f"{base}_thumb.jpg",
                 "original_path": f"{base}_original{photo.extension}"}
        for stored, data in zip(paths.values(), (photo.full, photo.thumb, photo.original), strict=True):
            self._write(file(stored), data)
        return Photo(id=photo_id, observation_id=observation_id, width=photo.width, height=photo.height,
                     sha256=photo.sha256, exif=photo.exif, created_by=created_by, **paths)

    def publish(self) -> None:
        """Rename the staged files into place (inside the transaction, before it commits)."""
        for temp, final in self._staged:
            os.replace(temp, final)
            self._placed.append(final)
        self._staged = []

    def discard(self) -> None:
        """Remove every file this object wrote, staged or placed."""
        written = [temp for temp, _ in self._staged] + self._placed
        for path in written:
            path.unlink(missing_ok=True)
        for folder in {p.parent for p in written}:
            if folder.exists() and not any(folder.iterdir()):
                folder.rmdir()
        self._staged, self._placed = [], []

    def _write(self, final: Path, data: bytes) -> None:
        if final.exists():  # stored by an earlier save of the same finding: same name, same content
            os.utime(final)  # and in use again: `sweep` leaves a file this fresh alone
            return
        temp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        self._staged.append((temp, final))  # before writing, so `discard` removes a half-written file too
        try:
            private_files.make_folder(final.parent)
            with private_files.open_private(temp) as out:  # 0600: the original keeps the EXIF's GPS position
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:  # the disk is full, a quota, the folder not writable: say so, keep the form
            raise PhotoError("reliability.photo_not_stored", reason=exc.strerror or str(exc)) from exc


STRAY_AGE_S = 3600
"""A photo file no row refers to is a stray once it is this old: far longer than any save takes (its files are
written just before its rows are committed, and a save waits at most LOCK_WAIT_S)."""


def sweep(stored: Iterable[str], older_than_s: float = STRAY_AGE_S) -> list[Path]:
    """Remove the files under photos/ that no photos row refers to (`stored`: every path the table holds) and that
    are older than `older_than_s`, and the folders they leave empty; return what was removed. Such files are
    left by a save killed between writing its files and committing its rows. They can show people, and no
    backup, export or deletion reaches them, so they must not linger."""
    root = config.data_dir() / "photos"
    keep = {file(p).resolve() for p in stored}
    cutoff = time.time() - older_than_s
    removed = [p for p in sorted(root.rglob("*")) if p.is_file() and p.resolve() not in keep
               and p.stat().st_mtime < cutoff] if root.is_dir() else []
    for path in removed:
        path.unlink(missing_ok=True)
    for folder in sorted({p.parent for p in removed}, key=lambda f: len(f.parts), reverse=True):
        if folder != root and not any(folder.iterdir()):
            folder.rmdir()
    return removed


def _open(upload: Upload, draft: tuple[int, int]) -> Image.Image:
    """The decoded image, or a PhotoError saying what is wrong with the file."""
    if len(upload.data) > MAX_BYTES:
        raise PhotoError("record.photo_too_large", name=upload.name, size_mb=math.ceil(len(upload.data) / 2**20),
                         max_mb=MAX_BYTES // 2**20)
    try:
        with warnings.catch_warnings(action="ignore", category=Image.DecompressionBombWarning):
            img = Image.open(io.BytesIO(upload.data), formats=list(_FORMATS))
    except UnidentifiedImageError:
        key = "record.photo_corrupt" if _image_signature(upload.data) else "record.photo_not_image"
        raise PhotoError(key, name=upload.name) from None
    except Image.DecompressionBombError:
        raise PhotoError("record.photo_too_many_pixels", name=upload.name, max_mp=MAX_PIXELS // 10**6) from None
    except Exception:  # any decoder failure on a file we did not make means the file is broken
        raise PhotoError("record.photo_corrupt", name=upload.name) from None
    if img.width * img.height > MAX_PIXELS:
        raise PhotoError("record.photo_too_many_pixels", name=upload.name, max_mp=MAX_PIXELS // 10**6)
    try:
        img.draft("RGB", draft)
        img.load()
    except Exception:
        raise PhotoError("record.photo_corrupt", name=upload.name) from None
    return img


def _image_signature(data: bytes) -> bool:
    """Whether `data` starts like a JPEG, PNG, HEIC or WebP file (so a file Pillow cannot read is broken,
    rather than something else altogether)."""
    return (data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n"
            or (data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"))


def _rgb(img: Image.Image) -> Image.Image:
    """RGB pixels; transparent parts become white rather than black."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        out = Image.new("RGB", rgba.size, "white")
        out.paste(rgba, mask=rgba.getchannel("A"))
        return out
    return img if img.mode == "RGB" else img.convert("RGB")


def _fit(img: Image.Image, side: int) -> Image.Image:
    """`img` shrunk to at most `side` px on its longer edge (never enlarged)."""
    scale = side / max(img.size)
    if scale >= 1:
        return img
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(img: Image.Image, icc: bytes | None) -> bytes:
    """`img` as a JPEG with no EXIF (the colour profile is kept)."""
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, **({"icc_profile": icc} if icc else {}))
    return out.getvalue()


def _degrees(dms, ref, negative: str) -> float:
    d, m, s = (float(x) for x in dms)
    value = d + m / 60 + s / 3600
    ref = (ref.decode(errors="ignore") if isinstance(ref, bytes) else str(ref or "")).strip("\x00 ").upper()
    return -value if ref == negative else value


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _exif_json(exif: Image.Exif) -> dict:
    """The EXIF as plain JSON (tag names to values), binary blobs such as maker notes left out."""
    groups = (("image", {k: v for k, v in exif.items() if k not in _IFD_POINTERS}, ExifTags.TAGS),
              ("exif", exif.get_ifd(ExifTags.IFD.Exif), ExifTags.TAGS),
              ("gps", exif.get_ifd(ExifTags.IFD.GPSInfo), ExifTags.GPSTAGS))
    out = {}
    for group, tags, names in groups:
        values = {names.get(tag, str(tag)): v for tag, value in tags.items()
                  if (v := _json_value(value)) is not None}
        if values:
            out[group] = values
    return out


def _json_value(value):
    if isinstance(value, bytes):
        return None
    if isinstance(value, str):
        return value.replace("\x00", "")[:500]
    if isinstance(value, (tuple, list)):
        items = [_json_value(v) for v in value]
        return None if any(i is None for i in items) else items
    if isinstance(value, (bool, int)):
        return value
    return _number(value)
