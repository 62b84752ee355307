"""The photo pipeline: decode (JPEG, PNG, HEIC), orientation, size limits, EXIF kept internal and GPS read,
clear errors for bad files, and files that never outlive a failed save."""
import io

import pytest
from PIL import ExifTags, Image

from dke_geo import photos
from dke_geo.photos import PhotoError, PhotoFiles, Upload
from tests import images
from tests.images import BLOKLAND_DMS, BLOKLAND_GPS, BLUE, RED


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path))
    return tmp_path


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def _near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_exif_orientation_turns_the_photo_upright():
    # Orientation 6: the camera was turned a quarter clockwise; the blue left band belongs at the top.
    p = photos.process(Upload("ipad.jpg", images.jpeg(orientation=6)))
    full = _open(p.full)
    assert (p.width, p.height) == full.size == (200, 400)
    assert _near(full.getpixel((100, 20)), BLUE) and _near(full.getpixel((100, 380)), RED)
    thumb = _open(p.thumb)
    assert thumb.size[1] > thumb.size[0]


def test_large_photo_is_reduced_to_2048_px_and_a_thumbnail():
    p = photos.process(Upload("big.jpg", images.jpeg(images.striped(5000, 3000))))
    assert (p.width, p.height) == _open(p.full).size == (2048, 1229)
    assert max(_open(p.thumb).size) == photos.THUMB_SIDE
    small = photos.process(Upload("small.png", images.png(images.striped(300, 100))))
    assert (small.width, small.height) == (300, 100)  # never enlarged
    assert small.extension == ".png" and _open(small.full).format == "JPEG"


def test_heic_from_an_ipad_is_decoded_with_its_gps():
    data = images.heic(images.striped(600, 300), gps=BLOKLAND_DMS, accuracy_m=6.0)
    p = photos.process(Upload("IMG_0001.HEIC", data))
    assert p.extension == ".heic" and (p.width, p.height) == (600, 300)
    assert _near(_open(p.full).getpixel((30, 150)), BLUE) and _near(_open(p.full).getpixel((500, 150)), RED)
    assert p.gps == photos.GpsFix(round(BLOKLAND_GPS[0], 7), round(BLOKLAND_GPS[1], 7), 6.0)


def test_transparent_png_gets_a_white_background():
    img = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    p = photos.process(Upload("logo.png", images.png(img)))
    assert _near(_open(p.full).getpixel((25, 25)), (255, 255, 255), 3)


def test_exif_is_kept_internally_only():
    data = images.jpeg(orientation=6, gps=BLOKLAND_DMS, accuracy_m=4.5)
    p = photos.process(Upload("gps.jpg", data))
    assert p.exif["image"]["Make"] == "Apple"
    assert p.exif["gps"]["GPSLatitude"] == [55.0, 39.0, 36.72] and p.exif["gps"]["GPSLatitudeRef"] == "N"
    assert p.original == data  # the original file keeps everything
    for stored in (p.full, p.thumb):
        img = _open(stored)
        assert not img.getexif() and not img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert b"Exif" not in stored[:4096] and b"Apple" not in stored
    public, _, _ = photos.public_jpeg(data)
    assert not _open(public).getexif()


def test_gps_position_from_exif():
    fix = photos.gps_position(images.exif(gps=BLOKLAND_DMS, accuracy_m=4.5))
    assert fix.lon == pytest.approx(BLOKLAND_GPS[0], abs=1e-7) and fix.lat == pytest.approx(BLOKLAND_GPS[1], abs=1e-7)
    assert fix.accuracy_m == 4.5
    south_west = photos.gps_position(images.exif(gps={**BLOKLAND_DMS, "lat_ref": "S", "lon_ref": "W"}))
    assert (south_west.lon, south_west.lat) == (-fix.lon, -fix.lat) and south_west.accuracy_m is None
    assert photos.gps_position(images.exif()) is None
    assert photos.gps_position(images.exif(gps={"lat": (0.0, 0.0, 0.0), "lon": (0.0, 0.0, 0.0)})) is None
    assert photos.gps_position(images.exif(gps={"lat": (95.0, 0.0, 0.0), "lon": (12.0, 0.0, 0.0)})) is None
    p = photos.process(Upload("gps.jpg", images.jpeg(gps=BLOKLAND_DMS)))
    assert p.gps.lat == pytest.approx(BLOKLAND_GPS[1], abs=1e-7)


def test_preview_is_small_upright_and_carries_the_gps():
    preview = photos.preview(Upload("p.jpg", images.jpeg(images.striped(4000, 2000), orientation=6, gps=BLOKLAND_DMS)))
    thumb = _open(preview.thumb)
    assert thumb.size[1] == photos.THUMB_SIDE and thumb.size[0] < thumb.size[1]
    assert preview.gps.lat == pytest.approx(BLOKLAND_GPS[1], abs=1e-7)


@pytest.mark.parametrize(("data", "key", "danish"), [
    (b"Dette er en tekstfil, ikke et foto.\n" * 10, "record.photo_not_image", "er ikke et billede"),
    (b"%PDF-1.7\n" + b"0" * 500, "record.photo_not_image", "er ikke et billede"),
    (b"\0\0\0\x18ftypmp42" + b"\0" * 500, "record.photo_not_image", "er ikke et billede"),  # a video
    (images.jpeg()[:400], "record.photo_corrupt", "er beskadiget"),
    (images.heic()[:300], "record.photo_corrupt", "er beskadiget"),
    (b"\0" * (photos.MAX_BYTES + 1), "record.photo_too_large", "26 MB; et foto må højst fylde 25 MB"),
])
def test_bad_files_get_a_clear_message_naming_the_file(data, key, danish):
    for check in (photos.process, photos.preview):
        with pytest.raises(PhotoError) as err:
            check(Upload("kvittering.jpg", data))
        assert err.value.key == key
        assert err.value.message("da").startswith("kvittering.jpg ") and danish in err.value.message("da")
        assert "kvittering.jpg" in err.value.message("en")


def test_a_decompression_bomb_is_refused_before_decoding():
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, "PNG")  # 81 megapixels in a few kilobytes
    with pytest.raises(PhotoError) as err:
        photos.process(Upload("bomb.png", out.getvalue()))
    assert err.value.key == "record.photo_too_many_pixels" and "80 megapixel" in err.value.message("da")


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_photo_files_are_placed_only_when_published(data_dir):
    import uuid
    obs_id = uuid.uuid4()
    processed = photos.process(Upload("a.jpg", images.jpeg(gps=BLOKLAND_DMS)))
    files = PhotoFiles()
    row = files.stage(obs_id, processed, "anna")
    assert all(name.split("/")[-1].startswith(".") and name.endswith(".tmp") for name in _files(data_dir))
    assert len(_files(data_dir)) == 3
    files.publish()
    assert _files(data_dir) == sorted([row.full_path, row.thumb_path, row.original_path])
    assert row.original_path.endswith("_original.jpg")
    assert photos.file(row.original_path).read_bytes() == processed.original
    assert row.id == uuid.uuid5(obs_id, processed.sha256) and row.exif["gps"]["GPSLongitudeRef"] == "E"
    again = PhotoFiles()
    assert again.stage(obs_id, processed, "anna").id == row.id  # same file, same finding: same photo
    again.discard()  # it wrote nothing, so it removes nothing
    assert _files(data_dir) == sorted([row.full_path, row.thumb_path, row.original_path])


def test_discard_removes_staged_and_placed_files(data_dir):
    import uuid
    files = PhotoFiles()
    files.stage(uuid.uuid4(), photos.process(Upload("a.jpg", images.jpeg())), "anna")
    files.publish()
    files.stage(uuid.uuid4(), photos.process(Upload("b.png", images.png())), "anna")
    files.discard()
    assert _files(data_dir) == []
    assert not any((data_dir / "photos").iterdir())
