"""Card uploads are judged by their bytes and come out without location or camera metadata."""

from __future__ import annotations

import io
from typing import Any

import pillow_heif
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo

from apps.intake.card_images import (
    CardImageRejected,
    CardImageTooLarge,
    PreparedCard,
    card_image_prepare,
)

GPS_LATITUDE = (33.0, 39.0, 45.12)


def _upload(data: bytes, name: str = "card.jpg", content_type: str = "image/jpeg") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _photo(size: tuple[int, int] = (64, 32)) -> Image.Image:
    image = Image.new("RGB", size, (200, 30, 30))
    # A distinct left half, so orientation can be checked after the transpose.
    image.paste((20, 20, 220), (0, 0, size[0] // 2, size[1]))
    return image


def _exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "AcmePhone"
    exif[ExifTags.Base.Model] = "AcmePhone 15 Pro"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: GPS_LATITUDE,
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (117.0, 52.0, 12.34),
    }
    return exif


def _jpeg_with_gps(orientation: int = 1) -> bytes:
    buffer = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Irvine, CA</x:xmpmeta>'
    _photo().save(
        buffer,
        "JPEG",
        exif=_exif_with_gps(orientation).tobytes(),
        xmp=xmp,
        comment=b"taken at Irvine, CA",
    )
    return buffer.getvalue()


def _prepare(data: bytes, **upload: str) -> PreparedCard:
    return card_image_prepare(upload=_upload(data, **upload), field_name="card_front")


def _assert_no_metadata(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"):
            assert key not in image.info
    for marker in (b"Exif\x00\x00", b"AcmePhone", b"Irvine", b"adobe:ns:meta", b"GPS"):
        assert marker not in data


def test_the_test_jpeg_really_carries_gps() -> None:
    with Image.open(io.BytesIO(_jpeg_with_gps())) as image:
        gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert gps[ExifTags.GPS.GPSLatitudeRef] == "N"


def test_it_strips_exif_gps_and_xmp_from_a_jpeg() -> None:
    source = _jpeg_with_gps()
    assert all(marker in source for marker in (b"Exif\x00\x00", b"AcmePhone", b"Irvine"))
    card = _prepare(source)
    assert card.content_type == "image/jpeg"
    assert card.data.startswith(b"\xff\xd8\xff")
    _assert_no_metadata(card.data)


def test_it_applies_the_exif_orientation_before_dropping_it() -> None:
    # Orientation 6: the camera was turned; the upright image is the stored one rotated 90°.
    card = _prepare(_jpeg_with_gps(orientation=6))
    with Image.open(io.BytesIO(card.data)) as image:
        assert image.size == (32, 64)
        top_red, _top_green, top_blue = image.convert("RGB").getpixel((16, 4))  # type: ignore[misc]
        assert top_blue > top_red  # the blue half, now on top
    _assert_no_metadata(card.data)


def test_it_strips_text_chunks_from_a_png() -> None:
    info = PngInfo()
    info.add_text("Location", "Irvine, CA")
    info.add_text("Author", "AcmePhone")
    buffer = io.BytesIO()
    _photo().save(buffer, "PNG", pnginfo=info, exif=_exif_with_gps().tobytes())
    assert b"Irvine" in buffer.getvalue()

    card = _prepare(buffer.getvalue(), name="scan.png", content_type="image/png")
    assert card.content_type == "image/png"
    assert card.data.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(card.data)) as image:
        assert image.text == {}  # type: ignore[attr-defined]
        assert image.size == (64, 32)
    _assert_no_metadata(card.data)


def test_it_keeps_png_transparency_which_is_pixel_data() -> None:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 255, 255])
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    card = _prepare(buffer.getvalue(), name="scan.png")
    with Image.open(io.BytesIO(card.data)) as reopened:
        assert reopened.info.get("transparency") == 0


def test_it_turns_heic_into_jpeg_without_metadata() -> None:
    buffer = io.BytesIO()
    pillow_heif.from_pillow(_photo()).save(buffer, quality=50, exif=_exif_with_gps().tobytes())
    heic = buffer.getvalue()
    assert heic[4:12] == b"ftypheic"

    # iPhones upload HEIC as "image/heic" or, through some browsers, as octet-stream.
    card = _prepare(heic, name="IMG_0001.HEIC", content_type="application/octet-stream")
    assert card.content_type == "image/jpeg"
    assert card.data.startswith(b"\xff\xd8\xff")
    with Image.open(io.BytesIO(card.data)) as image:
        assert image.format == "JPEG"
        assert image.size == (64, 32)
    _assert_no_metadata(card.data)


def test_it_converts_a_transparent_heic_onto_white() -> None:
    image = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, quality=90)
    card = _prepare(buffer.getvalue(), name="card.heic")
    with Image.open(io.BytesIO(card.data)) as reopened:
        assert reopened.mode == "RGB"
        assert min(reopened.getpixel((8, 8))) > 240  # type: ignore[arg-type]


def test_it_keeps_a_pdf_as_it_is() -> None:
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    card = _prepare(pdf, name="card.jpg", content_type="image/jpeg")
    assert card == PreparedCard(content_type="application/pdf", data=pdf)


def test_it_rejects_a_pdf_that_was_cut_short() -> None:
    truncated = b"%PDF-1.7\n" + b"0" * 5000
    with pytest.raises(CardImageRejected, match="incomplete"):
        _prepare(truncated, name="card.pdf", content_type="application/pdf")


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        pytest.param(b"member id XQZ948271635\n", "card.jpg", "image/jpeg", id="text-as-jpg"),
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00" + bytes(64), "card.png", "image/png", id="exe"),
        pytest.param(b"\x7fELF\x02\x01\x01" + bytes(64), "card.heic", "image/heic", id="elf"),
        pytest.param(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "card.gif", "image/gif", id="gif"),
        pytest.param(b"PK\x03\x04" + bytes(30), "card.pdf", "application/pdf", id="zip"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "c.png", "image/png", id="svg"),
    ],
)
def test_it_rejects_what_the_bytes_say_is_not_a_card(
    data: bytes, name: str, content_type: str
) -> None:
    with pytest.raises(CardImageRejected) as excinfo:
        _prepare(data, name=name, content_type=content_type)
    assert excinfo.value.field_name == "card_front"
    assert str(excinfo.value) == "Upload a JPEG, PNG, HEIC or PDF file."


def test_it_rejects_a_real_gif() -> None:
    buffer = io.BytesIO()
    _photo().save(buffer, "GIF")
    with pytest.raises(CardImageRejected, match="JPEG, PNG, HEIC or PDF"):
        _prepare(buffer.getvalue(), name="card.gif", content_type="image/gif")


def test_it_rejects_an_empty_file() -> None:
    with pytest.raises(CardImageRejected, match="empty"):
        _prepare(b"")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 200, id="jpeg-magic-then-nothing"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, id="png-magic-then-nothing"),
        pytest.param(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64, id="heic-brand-then-nothing"),
    ],
)
def test_it_rejects_files_that_fail_to_decode(data: bytes) -> None:
    with pytest.raises(CardImageRejected, match="could not be read"):
        _prepare(data)


def test_it_rejects_a_truncated_jpeg() -> None:
    whole = _jpeg_with_gps()
    with pytest.raises(CardImageRejected, match="could not be read"):
        _prepare(whole[: len(whole) // 2])


def test_it_refuses_a_decompression_bomb_before_decoding() -> None:
    # A 20000 x 20000 PNG of one colour compresses to a few hundred KB but would take 1.2 GB.
    buffer = io.BytesIO()
    Image.new("L", (20_000, 20_000)).save(buffer, "PNG", compress_level=9)
    assert len(buffer.getvalue()) < 1_000_000
    with pytest.raises(CardImageRejected, match="too many pixels"):
        _prepare(buffer.getvalue(), name="bomb.png")


def test_it_refuses_an_image_over_pillows_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # 64 x 32 = 2048 pixels: over the limit, under twice it, where Pillow itself only warns.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1500)
    with (
        pytest.warns(Image.DecompressionBombWarning),
        pytest.raises(CardImageRejected, match="too many pixels"),
    ):
        _prepare(_jpeg_with_gps())


def test_it_refuses_an_image_over_twice_pillows_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(CardImageRejected, match="too many pixels"):
        _prepare(_jpeg_with_gps())


@override_settings(INTAKE_MAX_CARD_BYTES=1024)
def test_it_refuses_a_file_over_the_size_limit() -> None:
    with pytest.raises(CardImageTooLarge) as excinfo:
        _prepare(b"%PDF-1.4\n" + b"0" * 2000 + b"%%EOF")
    assert excinfo.value.field_name == "card_front"
    assert excinfo.value.limit == 1024
    assert excinfo.value.status_code == 413
    assert str(excinfo.value) == "The file is larger than 1024 bytes."


@override_settings(INTAKE_MAX_CARD_BYTES=10 * 1024 * 1024)
def test_it_names_the_limit_in_megabytes() -> None:
    too_big = SimpleUploadedFile("card.pdf", b"0" * (10 * 1024 * 1024 + 1))
    with pytest.raises(CardImageTooLarge, match="larger than 10 MB"):
        card_image_prepare(upload=too_big, field_name="card_back")


@override_settings(INTAKE_MAX_CARD_BYTES=1024)
def test_it_stops_reading_a_file_that_understates_its_size() -> None:
    upload = _upload(b"%PDF-1.4\n" + b"0" * 4000)
    upload.size = 10
    with pytest.raises(CardImageTooLarge):
        card_image_prepare(upload=upload, field_name="card_front")


def test_a_file_exactly_at_the_limit_is_accepted() -> None:
    pdf = b"%PDF-1.4\n" + b"0" * 100 + b"\n%%EOF"
    with override_settings(INTAKE_MAX_CARD_BYTES=len(pdf)):
        assert _prepare(pdf).data == pdf
