"""Uploaded documents (annexes, letters, reports, supporting materials) checked by content.

PDFs: core.uploads only knows images, and no project dependency parses PDF, so this module checks
the structure by hand, just enough to refuse renamed files and truncated uploads: the `%PDF-1.x`
(or 2.0) header, an `%%EOF` marker near the end, and a `startxref` offset that points at a
cross-reference table (`xref`) or a cross-reference stream (`N G obj`) inside the file. A real PDF
parser (pypdf) would be the next step if the authorities want page counts or signatures checked.
Images go through core.uploads (re-encoded, metadata dropped).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.utils.translation import gettext as _

from yunzheng.core.errors import ValidationFailed
from yunzheng.core.uploads import validate_image_upload

DEFAULT_MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
PDF_INVALID = "upload.not_pdf"
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
        code=PDF_INVALID,
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


def check_document(
    upload: UploadLike | bytes,
    *,
    field: str,
    allow_images: bool = True,
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
) -> CheckedFile:
    """A PDF (or, if allowed, a PNG/JPEG image) checked by content; everything else is refused."""
    limit = max_bytes
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
