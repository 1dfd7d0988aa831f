"""Uploaded licensing documents (annexes, letters, reports): checked by content with
core.documents (PDF structure, images re-encoded) and stored privately.

Files live encrypted in core.private_files' storage (PRIVATE_MEDIA_ROOT, default MEDIA_ROOT/private),
which no URL serves; views hand them out after a permission check.
"""

from __future__ import annotations

from yunzheng.core import documents
from yunzheng.core.documents import CheckedFile, UploadLike
from yunzheng.core.private_files import read_private, store_private
from yunzheng.licensing.conf import app_settings


def check_document(upload: UploadLike | bytes, *, field: str, allow_images: bool = True) -> CheckedFile:
    """A PDF (or, if allowed, a PNG/JPEG image) no larger than LICENSING_MAX_PDF_BYTES."""
    return documents.check_document(
        upload, field=field, allow_images=allow_images, max_bytes=int(app_settings.LICENSING_MAX_PDF_BYTES)
    )


def store(checked: CheckedFile, *, folder: str) -> str:
    """Save encrypted under a random name (core.private_files); returns the stored name."""
    return store_private(checked.content, folder=folder)


def open_stored(stored_name: str) -> bytes:
    return read_private(stored_name)
