"""Files that must never be public: ID photos, case materials, licensing annexes and reports.

They live under settings.PRIVATE_MEDIA_ROOT (default MEDIA_ROOT/private), which no URL serves,
under random names, encrypted like the personal data in the database (SM4-GCM via
`core.crypto.encrypt_field`, key id in the token, so key rotation applies): a copied media folder
or backup reveals nothing. Views hand the bytes out only after their own permission checks.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from yunzheng.core.conf import app_settings
from yunzheng.core.crypto import decrypt_field, encrypt_field, is_field_token


def private_storage() -> FileSystemStorage:
    configured = app_settings.PRIVATE_MEDIA_ROOT
    location = Path(configured) if configured else Path(settings.MEDIA_ROOT) / "private"
    return FileSystemStorage(location=location, file_permissions_mode=0o600, directory_permissions_mode=0o700)


def store_private(content: bytes, *, folder: str, now: dt.datetime | None = None) -> str:
    """Encrypt and save `content` under `folder/YYYY/MM/<random>.enc`; returns the stored name."""
    sealed = encrypt_field(base64.b64encode(content).decode("ascii")).encode("ascii")
    name = f"{folder}/{(now or timezone.now()):%Y/%m}/{uuid.uuid4().hex}.enc"
    return private_storage().save(name, ContentFile(sealed))


def read_private(name: str) -> bytes:
    """The original bytes of a stored file (files saved before encryption are returned as they are)."""
    with private_storage().open(name, "rb") as stored:
        data = stored.read()
    text = data[:16].decode("ascii", errors="replace")
    if not is_field_token(text):
        return data
    return base64.b64decode(decrypt_field(data.decode("ascii")))
