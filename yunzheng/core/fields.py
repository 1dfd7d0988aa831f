"""Model fields for personal data (resident ID numbers, phone numbers) encrypted at rest."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from yunzheng.core.crypto import decrypt_field, encrypt_field, is_field_token


class EncryptedCharField(models.TextField):
    """Text stored as an SM4-GCM token (`yunzheng.core.crypto.encrypt_field`), plaintext in Python.

    Every write uses a fresh random nonce, so the column can neither be searched nor be unique:
    store `lookup_hash(value)` in a second, indexed column and filter on that instead.
    """

    description = "Text encrypted at rest with SM4-GCM"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt_field(str(value))

    def from_db_value(
        self, value: str | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None:
            return None
        return decrypt_field(value)

    def to_python(self, value: Any) -> str | None:
        # Only tokens are decrypted, so a value that from_db_value already decrypted (or that a
        # form or fixture supplies in plaintext) passes through unchanged: never decrypted twice.
        if value is None:
            return None
        value = str(value)
        return decrypt_field(value) if is_field_token(value) else value

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted with a random nonce, so "
                f"'{lookup_name}' lookups cannot match; filter on the field's lookup-hash column "
                "(yunzheng.core.crypto.lookup_hash) instead. Only 'isnull' works here."
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted; transforms such as '{lookup_name}' "
            "would operate on ciphertext."
        )
