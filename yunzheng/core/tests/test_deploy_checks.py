"""`manage.py check --deploy` fails on malformed personal-data keys and the console SMS backend."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

GOOD = {
    "FIELD_ENCRYPTION_KEYS": {"k1": "00112233445566778899aabbccddeeff"},
    "FIELD_ENCRYPTION_ACTIVE_KEY_ID": "k1",
    "FIELD_HASH_KEY": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "SMS_BACKEND": "yunzheng.core.sms.FileOutboxSmsBackend",
}


def _deploy_errors(**overrides: object) -> str:
    with override_settings(**{**GOOD, **overrides}):
        try:
            call_command("check", "--deploy", "--tag", "security", "--fail-level", "ERROR")
        except SystemCheckError as failed:
            return str(failed)
    return ""


def test_good_keys_pass_our_checks() -> None:
    assert "yunzheng.E" not in _deploy_errors()


@pytest.mark.parametrize(
    ("overrides", "error_id"),
    [
        ({"FIELD_ENCRYPTION_KEYS": {"k1": "not-hex"}}, "yunzheng.E001"),
        ({"FIELD_ENCRYPTION_KEYS": {"k1": "0011"}}, "yunzheng.E001"),
        ({"FIELD_ENCRYPTION_ACTIVE_KEY_ID": "k9"}, "yunzheng.E002"),
        ({"FIELD_HASH_KEY": "zz"}, "yunzheng.E003"),
        ({"FIELD_HASH_KEY": "00ff"}, "yunzheng.E003"),
        ({"SMS_BACKEND": "yunzheng.core.sms.ConsoleSmsBackend"}, "yunzheng.E004"),
    ],
)
def test_each_problem_fails_check_deploy(overrides: dict[str, object], error_id: str) -> None:
    assert error_id in _deploy_errors(**overrides)
