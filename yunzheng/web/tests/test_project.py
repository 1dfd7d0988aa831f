"""Project-level guarantees: migrations complete, production settings pass check --deploy,
demo data loads twice without duplicates, translations complete, compiled and consistent
across apps."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

REPO = Path(settings.BASE_DIR)


@pytest.mark.django_db
def test_no_missing_migrations() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_production_settings_pass_check_deploy() -> None:
    # The browser fixtures set DJANGO_ALLOW_ASYNC_UNSAFE for this process; a deployment never would.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/yunzheng",
        "SECRET_KEY": "a-production-like-secret-" + "k7#Qz9!" * 8,
        "ALLOWED_HOSTS": "yunzheng.example.cn",
        "FIELD_ENCRYPTION_KEYS": '{"p1": "00112233445566778899aabbccddeeff"}',
        "FIELD_ENCRYPTION_ACTIVE_KEY_ID": "p1",
        "FIELD_HASH_KEY": "ffeeddccbbaa99887766554433221100",
        "SMS_BACKEND": "yunzheng.core.sms.FileOutboxSmsBackend",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_sqlite() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": "sqlite:///tmp/x.sqlite3",
        "SECRET_KEY": "x" * 60,
        "FIELD_ENCRYPTION_KEYS": "{}",
        "FIELD_ENCRYPTION_ACTIVE_KEY_ID": "p1",
        "FIELD_HASH_KEY": "00",
        "SMS_BACKEND": "yunzheng.core.sms.FileOutboxSmsBackend",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def _catalogues() -> list[Path]:
    return sorted(REPO.glob("yunzheng/*/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_every_app_with_ui_text_has_a_chinese_catalogue() -> None:
    assert REPO / "yunzheng/web/locale/zh_Hans/LC_MESSAGES/django.po" in _catalogues()


@pytest.mark.parametrize("po_path", _catalogues(), ids=lambda p: p.parts[-5])
def test_translations_are_complete_and_compiled(po_path: Path) -> None:
    catalogue = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"untranslated in {po_path}: {untranslated[:5]}"
    assert not fuzzy, f"fuzzy in {po_path}: {fuzzy[:5]}"
    compiled = polib.mofile(str(po_path.with_suffix(".mo")))
    expected = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in catalogue.translated_entries()}
    actual = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in compiled if e.msgid}
    assert actual == expected, f"{po_path.with_suffix('.mo')} is stale: run `make messages`"


def test_no_two_apps_translate_the_same_message_differently() -> None:
    """Django merges every app's catalogue into one, and the app listed first in INSTALLED_APPS
    wins for a (context, msgid) that several apps translate: a second meaning of the same English
    string needs a context (pgettext / `translate … context "…"`), synonyms one translation."""
    seen: dict[tuple[str | None, str], dict[str, str]] = collections.defaultdict(dict)
    for po_path in _catalogues():
        app = po_path.parts[-5]
        for entry in polib.pofile(str(po_path)):
            if entry.msgid and entry.msgstr:
                seen[(entry.msgctxt, entry.msgid)][app] = entry.msgstr
    conflicts = {key: by_app for key, by_app in seen.items() if len(set(by_app.values())) > 1}
    assert not conflicts, (
        "translated differently by several apps (give one a context, or align them):\n"
        + "\n".join(
            f"{msgid!r}" + (f" (context {context!r})" if context else "") + f": {by_app}"
            for (context, msgid), by_app in sorted(
                conflicts.items(), key=lambda item: (item[0][1], item[0][0] or "")
            )
        )
    )
