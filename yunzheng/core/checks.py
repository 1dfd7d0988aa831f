"""Deployment checks (`manage.py check --deploy`): refuse to call a deployment ready whose
personal-data keys are malformed or missing, or whose SMS backend would print login codes."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from yunzheng.core.conf import app_settings
from yunzheng.core.crypto import SM4_KEY_BYTES, _hex_setting

CONSOLE_SMS_BACKEND = "yunzheng.core.sms.ConsoleSmsBackend"


@register(Tags.security, deploy=True)
def check_field_keys(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    keys = app_settings.FIELD_ENCRYPTION_KEYS
    if not isinstance(keys, dict) or not keys:
        errors.append(Error("FIELD_ENCRYPTION_KEYS is empty or not a dict.", id="yunzheng.E001"))
        keys = {}
    for key_id, value in keys.items():
        try:
            _hex_setting(
                f"FIELD_ENCRYPTION_KEYS[{key_id!r}]", value, min_bytes=SM4_KEY_BYTES, max_bytes=SM4_KEY_BYTES
            )
        except ImproperlyConfigured as problem:
            errors.append(Error(str(problem), id="yunzheng.E001"))
    active = app_settings.FIELD_ENCRYPTION_ACTIVE_KEY_ID
    if active not in keys:
        errors.append(
            Error(
                f"FIELD_ENCRYPTION_ACTIVE_KEY_ID {active!r} is not a key id in FIELD_ENCRYPTION_KEYS.",
                id="yunzheng.E002",
            )
        )
    try:
        _hex_setting("FIELD_HASH_KEY", app_settings.FIELD_HASH_KEY, min_bytes=16)
    except ImproperlyConfigured as problem:
        errors.append(Error(str(problem), id="yunzheng.E003"))
    return errors


@register(Tags.security, deploy=True)
def check_sms_backend(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if app_settings.SMS_BACKEND == CONSOLE_SMS_BACKEND:
        return [
            Error(
                "SMS_BACKEND is the console backend: login codes would be written to the log.",
                hint="Set SMS_BACKEND to the gateway backend.",
                id="yunzheng.E004",
            )
        ]
    return []
