"""Uploaded documents (annexes, letters, reports), checked by content and stored privately.

PDFs: core.uploads only knows images, and no project dependency parses PDF, so this module checks
the structure by hand, just enough to refuse renamed files and truncated uploads: the `%PDF-1.x`
(or 2.0) header, an `%%EOF` marker near the end, and a `startxref` offset that points at a
cross-reference table (`xref`) or a cross-reference stream (`N G obj`) inside the file. A real PDF
parser (pypdf) would be the next step if the authorities want page counts or signatures checked.
Images go through core.uploads (re-encoded, metadata dropped).

Files live encrypted in core.private_files' storage (PRIVATE_MEDIA_ROOT, default MEDIA_ROOT/private),
which no URL serves; views hand them out after a permission check.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.translation import gettext as _

from yunzheng.core.errors import ValidationFailed
from yunzheng.core.private_files import read_private, store_private
from yunzheng.core.uploads import validate_image_upload
from yunzheng.licensing.error_codes import LicensingErrorCode as Code

DEFAULT_MAX_PDF_BYTES = 20 * 1024 * 1024
_PDF_HEADER = re.compile(rb"%PDF-(1\.[0-7]|2\.0)")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF", re.S)
_XREF_STREAM = re.compile(rb"\d+\s+\d+\s+obj\b")


class UploadLike(Protocol):
    name: str | None

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    extension: str
    sha256: str
    original_name: str

    @property
    def size(self) -> int:
        return len(self.content)


def _not_pdf(field: str) -> ValidationFailed:
    return ValidationFailed.single(
        field=field,
        code=Code.PDF_INVALID,
        message=_("The file is not a complete PDF document; please upload the original PDF."),
    )


def check_pdf(data: bytes, *, field: str) -> None:
    """Raise ValidationFailed unless `data` looks like a complete PDF file (see module doc)."""
    if not _PDF_HEADER.match(data[:16]):
        raise _not_pdf(field)
    tail = data[-2048:]
    matches = list(_STARTXREF.finditer(tail))
    if not matches:
        raise _not_pdf(field)
    offset = int(matches[-1].group(1))
    if offset <= 0 or offset >= len(data):
        raise _not_pdf(field)
    at = data[offset : offset + 40]
    if not (at.startswith(b"xref") or _XREF_STREAM.match(at)):
        raise _not_pdf(field)


def _original_name(upload: object) -> str:
    name = Path(str(getattr(upload, "name", "") or "upload")).name
    return name[:200]


def _max_pdf_bytes() -> int:
    return int(getattr(settings, "LICENSING_MAX_PDF_BYTES", DEFAULT_MAX_PDF_BYTES))


def check_document(upload: UploadLike | bytes, *, field: str, allow_images: bool = True) -> CheckedFile:
    """A PDF (or, if allowed, a PNG/JPEG image) checked by content; everything else is refused."""
    limit = _max_pdf_bytes()
    if isinstance(upload, bytes):
        data, name = upload, "upload"
    else:
        declared = getattr(upload, "size", None)
        if isinstance(declared, int) and declared > limit:
            raise _too_large(field, limit)
        data, name = upload.read(limit + 1), _original_name(upload)
    if len(data) > limit:
        raise _too_large(field, limit)
    if not data:
        raise ValidationFailed.single(field=field, code="upload.empty", message=_("The file is empty."))
    if data.startswith(b"%PDF-"):
        check_pdf(data, field=field)
        return CheckedFile(data, "application/pdf", "pdf", hashlib.sha256(data).hexdigest(), name)
    if not allow_images:
        raise _not_pdf(field)
    image = validate_image_upload(data, field=field)
    return CheckedFile(image.content, image.content_type, image.extension, image.sha256, name)


def _too_large(field: str, limit: int) -> ValidationFailed:
    return ValidationFailed.single(
        field=field,
        code="upload.too_large",
        message=_("The file is larger than %(max_mb)s MB.") % {"max_mb": f"{limit / (1024 * 1024):g}"},
    )


def store(checked: CheckedFile, *, folder: str) -> str:
    """Save encrypted under a random name (core.private_files); returns the stored name."""
    return store_private(checked.content, folder=folder)


def open_stored(stored_name: str) -> bytes:
    return read_private(stored_name)
