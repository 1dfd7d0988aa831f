"""Image uploads (photos, scanned licences) checked by content and re-encoded without metadata.

The file name, extension and declared content type are ignored: only what Pillow decodes counts.
What is kept is a fresh encoding of the pixels, so EXIF (including GPS), ICC profiles, comments and
PNG text chunks from the phone or scanner never reach storage.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Literal, Protocol

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from yunzheng.core.errors import ValidationFailed

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # ours, independent of the process-wide Image.MAX_IMAGE_PIXELS
MIN_SIDE = 64
JPEG_QUALITY = 90

# Pillow's JPEG opener returns an "MPO" image for multi-picture JPEGs straight from many cameras.
_FORMAT_BY_PILLOW_FORMAT: dict[str, Literal["PNG", "JPEG"]] = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG"}
_PILLOW_OPENERS = ("PNG", "JPEG")  # MPO has no opener of its own: the JPEG one returns it
_CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
_PNG_MODES = frozenset({"1", "L", "LA", "I;16", "RGB", "RGBA"})
_JPEG_MODES = frozenset({"L", "RGB"})


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class CleanImage:
    content: bytes  # the re-encoded image: store this, never the upload
    format: Literal["PNG", "JPEG"]
    width: int
    height: int
    content_type: str
    sha256: str  # hex digest of `content`

    @property
    def extension(self) -> str:
        return "png" if self.format == "PNG" else "jpg"


def _too_large(*, field: str, max_bytes: int) -> ValidationFailed:
    return ValidationFailed.single(
        field=field,
        code="upload.too_large",
        message=_("The file is larger than %(max_mb)s MB.") % {"max_mb": f"{max_bytes / (1024 * 1024):g}"},
        max_bytes=max_bytes,
    )


def _read_limited(source: bytes | Readable, *, field: str, max_bytes: int) -> bytes:
    """All bytes of `source` (from its current position), reading at most max_bytes + 1."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > max_bytes:
            raise _too_large(field=field, max_bytes=max_bytes)
        return data
    declared_size = getattr(source, "size", None)  # Django's UploadedFile knows it without reading
    if isinstance(declared_size, int) and declared_size > max_bytes:
        raise _too_large(field=field, max_bytes=max_bytes)
    chunks: list[bytes] = []
    received = 0
    while received <= max_bytes:
        chunk = source.read(max_bytes + 1 - received)  # short reads are allowed, so loop
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    if received > max_bytes:
        raise _too_large(field=field, max_bytes=max_bytes)
    return b"".join(chunks)


def _open(data: bytes) -> Image.Image:
    # Only the PNG and JPEG parsers ever see the bytes, so hostile input cannot reach other plugins.
    return Image.open(io.BytesIO(data), formats=_PILLOW_OPENERS)


def _corrupt(*, field: str) -> ValidationFailed:
    return ValidationFailed.single(
        field=field,
        code="upload.corrupt",
        message=_("The image is damaged or incomplete; please upload the original file again."),
    )


def _too_many_pixels(
    *, field: str, max_pixels: int, width: int | None = None, height: int | None = None
) -> ValidationFailed:
    return ValidationFailed.single(
        field=field,
        code="upload.too_many_pixels",
        message=_("The image has too many pixels; the limit is %(max_megapixels)s megapixels.")
        % {"max_megapixels": max_pixels // 1_000_000},
        width=width,
        height=height,
        max_pixels=max_pixels,
    )


def _decode(data: bytes, *, field: str, max_pixels: int, max_side: int | None) -> Image.Image:
    """Open, check the header and fully decode; every failure becomes its own ValidationFailed.

    With `max_side`, a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that still covers
    it (Pillow's draft mode: a 48-megapixel photo costs the memory and time of a 3-megapixel one).
    """
    # WeasyPrint sets this process-wide flag to True when it is imported (for its own images);
    # then Pillow would fill a truncated upload with grey instead of failing. Uploads never want that.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; treat the warning as fatal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            header = _open(data)
        except UnidentifiedImageError:
            raise ValidationFailed.single(
                field=field,
                code="upload.unsupported_type",
                message=_("Only PNG and JPEG images are accepted."),
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(field=field, max_pixels=max_pixels) from None
        # Pillow signals malformed input with many exception types (SyntaxError, struct.error, ...),
        # so, like Django's forms.ImageField, anything else from the parser means "corrupt".
        except Exception:
            raise _corrupt(field=field) from None
        width, height = header.size
        if width * height > max_pixels:  # from the header alone: no pixel memory allocated yet
            raise _too_many_pixels(field=field, max_pixels=max_pixels, width=width, height=height)
        if width < MIN_SIDE or height < MIN_SIDE:
            raise ValidationFailed.single(
                field=field,
                code="upload.too_small",
                message=_(
                    "The image is %(width)s × %(height)s pixels; it must be at least %(min)s × %(min)s."
                )
                % {"width": width, "height": height, "min": MIN_SIDE},
                width=width,
                height=height,
                min_side=MIN_SIDE,
            )
        try:
            header.verify()  # structural checks (PNG chunk CRCs); leaves the image unusable
            image = _open(data)  # so decode from a second open
            if max_side is not None and max(width, height) > max_side:
                # The size the kept image will have; draft picks the smallest scale covering it.
                factor = max_side / max(width, height)
                image.draft(None, (max(1, int(width * factor)), max(1, int(height * factor))))  # PNG: no-op
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(field=field, max_pixels=max_pixels, width=width, height=height) from None
        except Exception:
            raise _corrupt(field=field) from None
    return image


def _pixels_for(image: Image.Image, *, output_format: Literal["PNG", "JPEG"]) -> Image.Image:
    """The image in a mode the output format stores faithfully, with all metadata dropped."""
    if output_format == "JPEG":
        # CMYK and YCbCr JPEGs display badly in browsers and some archive viewers; store RGB.
        converted = image if image.mode in _JPEG_MODES else image.convert("RGB")
    elif image.mode in _PNG_MODES and "transparency" not in image.info:
        converted = image
    else:
        # Palette images and images with a tRNS colour key: keep transparency as a real alpha channel.
        has_alpha = "transparency" in image.info or image.mode in ("LA", "PA", "RGBA")
        converted = image.convert("RGBA" if has_alpha else "RGB")
    # Savers fall back to info for ICC profiles (PNG) and comments (JPEG); start from nothing.
    converted.info = {}
    return converted


def validate_image_upload(
    data: bytes | Readable,
    *,
    field: str = "file",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int | None = None,
) -> CleanImage:
    """Accept a PNG or JPEG upload and return it re-encoded without metadata, or raise ValidationFailed.

    `max_pixels` refuses larger images from their header alone; `max_side` scales what is kept
    down to at most that many pixels on its longer side (decoding JPEGs downscaled).
    """
    content = _read_limited(data, field=field, max_bytes=max_bytes)
    if not content:
        raise ValidationFailed.single(field=field, code="upload.empty", message=_("The file is empty."))
    image = _decode(content, field=field, max_pixels=max_pixels, max_side=max_side)
    output_format = _FORMAT_BY_PILLOW_FORMAT[str(image.format)]
    if max_side is not None and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), reducing_gap=2.0)  # in place: keeps the EXIF orientation
    ImageOps.exif_transpose(image, in_place=True)  # bake the EXIF orientation into the pixels
    clean = _pixels_for(image, output_format=output_format)
    buffer = io.BytesIO()
    if output_format == "JPEG":
        clean.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    else:
        clean.save(buffer, format="PNG")
    encoded = buffer.getvalue()
    return CleanImage(
        content=encoded,
        format=output_format,
        width=clean.width,
        height=clean.height,
        content_type=_CONTENT_TYPES[output_format],
        sha256=hashlib.sha256(encoded).hexdigest(),
    )
