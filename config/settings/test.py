"""The test suite: PostgreSQL when DATABASE_URL is set (CI), otherwise SQLite."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from config.env import database_from_env

from .base import *  # noqa: F403
from .base import BASE_DIR

SECRET_KEY = "test-only-secret-key-" + "t" * 40
DEBUG = False
ALLOWED_HOSTS = ["*"]
DATABASES = {"default": database_from_env(f"sqlite:///{BASE_DIR / 'var' / 'test.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not Django's default in-memory test database: concurrent writers then wait for the
    # lock as they do under `make run`, so concurrency tests hold on SQLite too. One file per
    # process, so simultaneous test runs never share (and delete) each other's database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-suite-{os.getpid()}.sqlite3")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never in production
SMS_BACKEND = "yunzheng.core.sms.FileOutboxSmsBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

FIELD_ENCRYPTION_KEYS = {"t1": "000102030405060708090a0b0c0d0e0f", "t0": "f0e0d0c0b0a090807060504030201000"}
FIELD_ENCRYPTION_ACTIVE_KEY_ID = "t1"
FIELD_HASH_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
# A fixed, test-only audit checkpoint key (never used anywhere else).
AUDIT_CHECKPOINT_PRIVATE_KEY = "0823b033377caeb83e63b3aa26de3c6f31ed45b4ddc941f7b9339ea786fda812"
# Serve static files straight from the apps (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Uploaded and demo files of a test run stay out of the working tree.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="yunzheng-test-media-"))
