from __future__ import annotations

from pathlib import Path

from django.core.files.base import ContentFile

from yunzheng.core.private_files import private_storage, read_private, store_private


def test_stored_files_are_encrypted_and_read_back(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    secret = b"\x89PNG\r\n\x1a\n ID card 110101199003071237"
    name = store_private(secret, folder="realname")
    on_disk = (tmp_path / "private" / name).read_bytes()
    assert b"110101199003071237" not in on_disk
    assert on_disk.startswith(b"sm4gcm:")
    assert read_private(name) == secret
    assert name.startswith("realname/")
    assert name.endswith(".enc")
    assert (tmp_path / "private" / name).stat().st_mode & 0o777 == 0o600


def test_two_stores_of_the_same_content_differ(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    first, second = store_private(b"same", folder="x"), store_private(b"same", folder="x")
    assert first != second
    assert (tmp_path / "private" / first).read_bytes() != (tmp_path / "private" / second).read_bytes()


def test_files_saved_before_encryption_are_still_readable(settings, tmp_path: Path) -> None:
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "elsewhere"
    name = private_storage().save("legacy/report.pdf", ContentFile(b"%PDF-1.4 old"))
    assert read_private(name) == b"%PDF-1.4 old"
