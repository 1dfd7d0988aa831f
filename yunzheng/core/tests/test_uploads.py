import hashlib
import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, PngImagePlugin

from yunzheng.core.errors import ValidationFailed
from yunzheng.core.uploads import CleanImage, validate_image_upload

TEN_MB = 10 * 1024 * 1024


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def exif_with_gps(*, orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (39.0, 54.0, 27.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (116.0, 23.0, 17.0),
        }
    )
    return exif


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height but whose pixel data is a few bytes of garbage."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + png_chunk(b"IEND", b"")
    )


def rejected(data, **kwargs) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        validate_image_upload(data, **kwargs)
    return info.value


def photo(size=(120, 80)) -> Image.Image:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1] // 2))  # a marker in the top-left corner
    return image


# --- accepted images -----------------------------------------------------------------------


def test_jpeg_is_reencoded_without_exif_gps_or_comment():
    original = encode(photo(), "JPEG", exif=exif_with_gps(), comment=b"taken at home")
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # really there

    clean = validate_image_upload(original)

    assert (clean.format, clean.content_type, clean.extension) == ("JPEG", "image/jpeg", "jpg")
    assert (clean.width, clean.height) == (120, 80)
    assert clean.sha256 == hashlib.sha256(clean.content).hexdigest()
    result = Image.open(io.BytesIO(clean.content))
    assert result.format == "JPEG"
    assert len(result.getexif()) == 0
    assert "exif" not in result.info
    assert "comment" not in result.info
    assert b"TestCam" not in clean.content
    assert b"taken at home" not in clean.content


def test_png_is_reencoded_without_text_chunks_exif_or_icc_profile():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Zhang San")
    info.add_itxt("Location", "北京市朝阳区", lang="zh")
    original = encode(
        photo().convert("RGBA"), "PNG", pnginfo=info, exif=exif_with_gps(), icc_profile=b"fake-icc-profile"
    )
    opened = Image.open(io.BytesIO(original))
    assert isinstance(opened, PngImagePlugin.PngImageFile)
    assert opened.text["Author"] == "Zhang San"
    assert opened.info["icc_profile"] == b"fake-icc-profile"

    clean = validate_image_upload(original)

    assert (clean.format, clean.content_type, clean.extension) == ("PNG", "image/png", "png")
    result = Image.open(io.BytesIO(clean.content))
    assert isinstance(result, PngImagePlugin.PngImageFile)
    assert result.mode == "RGBA"
    assert result.text == {}
    assert len(result.getexif()) == 0
    assert "icc_profile" not in result.info
    for marker in (b"Zhang San", b"tEXt", b"iTXt", b"eXIf", b"iCCP", b"TestCam"):
        assert marker not in clean.content


def test_orientation_is_applied_before_exif_is_dropped():
    # Orientation 6: the camera was turned; viewers rotate 90° clockwise for display.
    original = encode(photo((120, 80)), "JPEG", exif=exif_with_gps(orientation=6))
    clean = validate_image_upload(original)
    assert (clean.width, clean.height) == (80, 120)
    result = Image.open(io.BytesIO(clean.content)).convert("RGB")
    top_right = result.getpixel((70, 5))
    assert isinstance(top_right, tuple)
    assert top_right[2] > 150  # the blue top-left marker is now top-right


def test_cmyk_jpeg_becomes_rgb_and_palette_png_keeps_transparency():
    cmyk = validate_image_upload(encode(photo().convert("CMYK"), "JPEG"))
    assert Image.open(io.BytesIO(cmyk.content)).mode == "RGB"

    palette = photo().convert("P")
    palette.info["transparency"] = 0
    clean = validate_image_upload(encode(palette, "PNG", transparency=0))
    assert Image.open(io.BytesIO(clean.content)).mode == "RGBA"

    opaque_palette = validate_image_upload(encode(photo().convert("P"), "PNG"))
    assert Image.open(io.BytesIO(opaque_palette.content)).mode == "RGB"


def test_uploaded_file_object_is_accepted_whatever_its_name():
    upload = SimpleUploadedFile("scan.pdf", encode(photo(), "PNG"), content_type="application/pdf")
    assert isinstance(validate_image_upload(upload), CleanImage)


# --- rejected uploads ----------------------------------------------------------------------


def test_empty_file():
    assert rejected(b"").code == "upload.empty"
    assert rejected(SimpleUploadedFile("photo.png", b"")).code == "upload.empty"


def test_pdf_named_png_is_rejected_by_content():
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    error = rejected(SimpleUploadedFile("photo.png", pdf, content_type="image/png"))
    assert error.code == "upload.unsupported_type"
    assert error.details[0].field == "file"


@pytest.mark.parametrize("image_format", ["GIF", "WEBP", "BMP", "TIFF"])
def test_other_image_formats_are_rejected(image_format):
    error = rejected(encode(photo(), image_format), field="licence_scan")
    assert error.code == "upload.unsupported_type"
    assert error.details[0].field == "licence_scan"


def test_too_large_bytes():
    assert rejected(b"\x00" * (TEN_MB + 1)).code == "upload.too_large"


def test_too_large_checked_by_declared_size_before_reading():
    class DeclaredHuge(io.BytesIO):
        size = TEN_MB + 1

        def read(self, *args):
            raise AssertionError("must not read a file whose declared size is too large")

    assert rejected(DeclaredHuge(b"")).code == "upload.too_large"


def test_too_large_stream_is_not_read_past_the_limit():
    class CountingStream(io.RawIOBase):
        def __init__(self, total: int) -> None:
            self.remaining = total
            self.delivered = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            size = min(size, self.remaining, 1 << 20)  # short reads, like a socket
            self.remaining -= size
            self.delivered += size
            return b"\x00" * size

    stream = CountingStream(TEN_MB * 3)
    assert rejected(stream).code == "upload.too_large"
    assert stream.delivered == TEN_MB + 1


def test_exactly_the_limit_is_not_too_large():
    data = encode(photo(), "PNG")
    assert validate_image_upload(data, max_bytes=len(data)).format == "PNG"
    assert rejected(data, max_bytes=len(data) - 1).code == "upload.too_large"


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (50_000, 50_000),  # beyond Pillow's own bomb limit
        (8_000, 6_000),  # 48 MP: under Pillow's default limit, over ours
    ],
)
def test_pixel_bomb_rejected_from_the_header(width, height):
    error = rejected(png_claiming(width, height))
    # Had the pixels been decoded, the garbage IDAT would have produced upload.corrupt instead.
    assert error.code == "upload.too_many_pixels"


def test_highly_compressible_bomb_rejected():
    # 7000 x 7000 of one colour compresses to almost nothing but would decode to 49 MB.
    bomb = encode(Image.new("L", (7000, 7000)), "PNG")
    assert len(bomb) < 100_000
    assert rejected(bomb).code == "upload.too_many_pixels"


def test_header_claiming_a_plausible_size_with_garbage_data_is_corrupt():
    assert rejected(png_claiming(100, 100)).code == "upload.corrupt"


def test_truncated_jpeg():
    full = encode(photo((400, 300)), "JPEG")
    error = rejected(full[: len(full) // 2])
    assert error.code == "upload.corrupt"


def test_png_with_bad_crc_is_corrupt():
    data = bytearray(encode(photo(), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # a byte inside the compressed data: CRC no longer matches
    assert rejected(bytes(data)).code == "upload.corrupt"


@pytest.mark.parametrize("size", [(63, 200), (200, 63), (1, 1)])
def test_too_small(size):
    error = rejected(encode(photo(size), "PNG"))
    assert error.code == "upload.too_small"
    assert (error.details[0].params["width"], error.details[0].params["height"]) == size


def test_minimum_size_is_accepted():
    assert validate_image_upload(encode(photo((64, 64)), "JPEG")).width == 64


def test_multi_picture_jpeg_from_a_camera_is_accepted_as_jpeg():
    first, second = photo(), photo().transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    mpo = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    clean = validate_image_upload(mpo)
    assert clean.format == "JPEG"
    assert Image.open(io.BytesIO(clean.content)).format == "JPEG"


def test_truncated_jpeg_is_refused_even_after_weasyprint_is_imported():
    # WeasyPrint turns on Pillow's process-wide LOAD_TRUNCATED_IMAGES when it is imported.
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True  # as WeasyPrint leaves it
    full = encode(photo((400, 300)), "JPEG")
    assert rejected(full[: len(full) // 2]).code == "upload.corrupt"


def test_lower_pixel_cap_is_checked_from_the_header():
    from yunzheng.core.uploads import validate_image_upload

    big = encode(Image.new("L", (3001, 1000)), "PNG")  # 3.001 megapixels, tiny file
    with pytest.raises(ValidationFailed) as refused:
        validate_image_upload(big, field="photo", max_pixels=3_000_000)
    assert refused.value.code == "upload.too_many_pixels"
    assert refused.value.details[0].params["max_pixels"] == 3_000_000
    assert validate_image_upload(big, field="photo").width == 3001  # the general cap is higher


def test_large_jpeg_is_decoded_downscaled_and_kept_at_the_maximum_side():
    from yunzheng.core.uploads import _decode, validate_image_upload

    data = encode(photo((4000, 3000)), "JPEG")
    decoded = _decode(data, field="photo", max_pixels=40_000_000, max_side=1000)
    assert decoded.size == (1000, 750)  # DCT scaling at 1/4: the full 12 megapixels never decoded
    clean = validate_image_upload(data, field="photo", max_side=1000)
    assert (clean.width, clean.height) == (1000, 750)
    png = validate_image_upload(encode(photo((1600, 1200)), "PNG"), field="photo", max_side=1000)
    assert (png.width, png.height) == (1000, 750)  # PNG decodes fully, then is scaled down
