"""Insurance card uploads, judged by what the bytes are rather than what the file claims to be.

Accepted: JPEG, PNG, HEIC/HEIF and PDF, recognised by their magic bytes (the file name and the
declared content type are ignored: both come from the visitor's device and prove nothing).

Images are decoded with Pillow (pillow-heif for HEIC) and encoded again from the pixels alone,
which drops EXIF (GPS position, camera, time), XMP, ICC, comments and text chunks. The EXIF
orientation is applied first, so a portrait photo stays upright. JPEG and HEIC become JPEG (staff
browsers cannot show HEIC); PNG stays PNG (scans and screenshots keep their sharp text).

PDFs are kept byte for byte. Their Info dictionary and XMP stream can name the producing app or
scanner and a creation date, but not a location; removing them safely means rewriting the
cross-reference table (and decompressing object streams), which needs a full PDF library: a new
dependency with a large attack surface on hostile input, for little privacy gain. The file is
encrypted at rest like every card. Whoever serves it to staff later must send it as an attachment
(``Content-Disposition: attachment``, a sandboxing CSP), since a PDF can carry scripts.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from typing import Final

import pillow_heif
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps
from rest_framework import status

from asana_leads.exceptions import ApplicationError

logger = logging.getLogger(__name__)

# Registration is how Pillow learns a format; it is idempotent and touches only Pillow's own
# format registry, which nothing else in the project configures differently.
pillow_heif.register_heif_opener()

JPEG_QUALITY: Final = 85
# Adobe's readers accept the end-of-file marker within the last 1024 bytes; a PDF without it
# there was cut off in transit.
PDF_EOF_WINDOW: Final = 1024
# Phone cameras reach ~50 MP (8064 x 6048); Pillow's own limit (~89 MP) is far above any card
# photo and still bounds the memory one decode can take. Read at call time, not import time.
FALLBACK_MAX_PIXELS: Final = 89_478_485

UNSUPPORTED_MESSAGE: Final = "Upload a JPEG, PNG, HEIC or PDF file."
EMPTY_MESSAGE: Final = "The file is empty."
DAMAGED_IMAGE_MESSAGE: Final = "The image could not be read; it may be damaged."
TOO_MANY_PIXELS_MESSAGE: Final = "The image has too many pixels; upload a smaller photo or scan."
DAMAGED_PDF_MESSAGE: Final = "The PDF is incomplete or damaged."

_PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC: Final = b"\xff\xd8\xff"
_PDF_HEADER: Final = re.compile(rb"%PDF-\d\.\d")
# The major brands pillow-heif opens (its own _is_supported_heif list).
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


@dataclass(frozen=True)
class PreparedCard:
    """A card file ready to encrypt and store: what it is, and its cleaned bytes."""

    content_type: str
    data: bytes


class CardImageRejected(ApplicationError):
    """The upload is not an acceptable card file; the API answers 400 naming the field."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message, extra={field_name: [message]})
        self.field_name = field_name


class CardImageTooLarge(ApplicationError):
    """The upload is over ``INTAKE_MAX_CARD_BYTES``; the API answers 413."""

    # ApplicationError.status_code is inferred as Literal[400]; it is meant as any status.
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE  # type: ignore[assignment]

    def __init__(self, field_name: str, limit: int) -> None:
        message = f"The file is larger than {_human_size(limit)}."
        super().__init__(message, extra={field_name: [message]})
        self.field_name = field_name
        self.limit = limit


def card_image_prepare(*, upload: UploadedFile, field_name: str) -> PreparedCard:
    """Check an uploaded card by its content and return it cleaned for storage.

    Raises ``CardImageTooLarge`` over ``settings.INTAKE_MAX_CARD_BYTES``, and
    ``CardImageRejected`` for empty files, anything but JPEG/PNG/HEIC/PDF, images that do not
    decode (or would decode to too many pixels) and PDFs cut short. Messages carry no content.
    """
    limit: int = settings.INTAKE_MAX_CARD_BYTES
    if upload.size is not None and upload.size > limit:
        raise CardImageTooLarge(field_name, limit)
    data = _read_at_most(upload, limit, field_name)
    if not data:
        raise CardImageRejected(field_name, EMPTY_MESSAGE)

    kind = _sniff(data)
    if kind is None:
        raise CardImageRejected(field_name, UNSUPPORTED_MESSAGE)
    if kind == "PDF":
        return _prepare_pdf(data, field_name)
    return _prepare_image(data, kind, field_name)


def _read_at_most(upload: UploadedFile, limit: int, field_name: str) -> bytes:
    # The declared size is Django's count of received bytes, but reading stops at the limit
    # anyway, so no file object can make us hold more than limit + one chunk.
    buffer = bytearray()
    for chunk in upload.chunks():
        buffer += chunk
        if len(buffer) > limit:
            raise CardImageTooLarge(field_name, limit)
    return bytes(buffer)


def _sniff(data: bytes) -> str | None:
    """The Pillow format name (or "PDF") that the leading bytes announce, if one we accept."""
    if data.startswith(_JPEG_MAGIC):
        return "JPEG"
    if data.startswith(_PNG_MAGIC):
        return "PNG"
    if _PDF_HEADER.match(data):
        return "PDF"
    # ISO base media file: 4-byte box size, "ftyp", then the major brand.
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def _prepare_pdf(data: bytes, field_name: str) -> PreparedCard:
    if b"%%EOF" not in data[-PDF_EOF_WINDOW:]:
        raise CardImageRejected(field_name, DAMAGED_PDF_MESSAGE)
    return PreparedCard(content_type="application/pdf", data=data)


def _prepare_image(data: bytes, kind: str, field_name: str) -> PreparedCard:
    try:
        # formats=[kind]: only the decoder the magic bytes named may parse this file, never one
        # of Pillow's other (rarely exercised) plugins.
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            _check_pixels(image, field_name)
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            if kind == "PNG":
                return PreparedCard(content_type="image/png", data=_encode_png(image))
            return PreparedCard(content_type="image/jpeg", data=_encode_jpeg(image))
    except CardImageRejected:
        raise
    except Image.DecompressionBombError:
        raise CardImageRejected(field_name, TOO_MANY_PIXELS_MESSAGE) from None
    except Exception as exc:
        # Decoders of hostile input fail in many ways (OSError, ValueError, SyntaxError,
        # EOFError, struct.error, ...); each means "not a usable image", never a 500. The log
        # names the error type only: the message could quote file content.
        logger.info("card image rejected: %s", type(exc).__name__)
        raise CardImageRejected(field_name, DAMAGED_IMAGE_MESSAGE) from exc


def _check_pixels(image: Image.Image, field_name: str) -> None:
    # Only the header has been read so far. Pillow merely warns between 1x and 2x its limit;
    # we refuse before decoding allocates anything.
    width, height = image.size
    if width * height > (Image.MAX_IMAGE_PIXELS or FALLBACK_MAX_PIXELS):
        raise CardImageRejected(field_name, TOO_MANY_PIXELS_MESSAGE)


def _encode_jpeg(image: Image.Image) -> bytes:
    if image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info):
        # JPEG has no alpha: put transparent areas on white (a card on a page), not on the
        # arbitrary colour hidden under the alpha channel.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        image = background
    if image.mode not in {"RGB", "L"}:
        image = image.convert("RGB")
    # A fresh info dict: everything the decoder read (exif, xmp, icc_profile, comment, HEIF
    # thumbnails and depth maps) stays behind; explicit empty exif in case a default creeps in.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, exif=b"")
    return buffer.getvalue()


def _encode_png(image: Image.Image) -> bytes:
    # Transparency is pixel data for palette and grey images, so it is the one key kept; text
    # chunks, eXIf, iCCP, pHYs and time stamps are not carried over.
    transparency = image.info.get("transparency")
    image.info = {} if transparency is None else {"transparency": transparency}
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _human_size(limit: int) -> str:
    megabyte = 1024 * 1024
    if limit >= megabyte and limit % megabyte == 0:
        return f"{limit // megabyte} MB"
    return f"{limit} bytes"
