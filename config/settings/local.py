"""`make run`: embedded SQLite, demo data, console-friendly defaults. Never use in production."""

from __future__ import annotations

from config.env import database_from_env, env_bool, env_str

from .base import *  # noqa: F403
from .base import VAR_DIR

# Not DEBUG: a visitor (on a phone, too) gets the platform's own error pages, never Django's
# technical ones; whitenoise serves the collected static files either way (`make setup` collects).
DEBUG = env_bool("DEBUG", default=False)
# Static files as in production (collected by `make run`, hashed names, compressed, cached for a
# year): DEBUG would otherwise make WhiteNoise re-scan the app folders and send `max-age=0`.
WHITENOISE_AUTOREFRESH = False
WHITENOISE_USE_FINDERS = False
SECRET_KEY = env_str("SECRET_KEY", "local-development-only-not-secret-" + "x" * 20)
DATABASES = {"default": database_from_env(f"sqlite:///{VAR_DIR / 'yunzheng.sqlite3'}")}
SMS_BACKEND = "yunzheng.core.sms.FileOutboxSmsBackend"
# Demos approve consistent real-name submissions at once; production queues them for staff.
IDENTITY_VERIFICATION_BACKEND = "yunzheng.accounts.identity.TrustedOcrBackend"

# Demo keys: fixed so that demo data stays readable across restarts. Production reads its own.
FIELD_ENCRYPTION_KEYS = {"demo1": "00112233445566778899aabbccddeeff"}
FIELD_ENCRYPTION_ACTIVE_KEY_ID = "demo1"
FIELD_HASH_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
# The demo's platforms have tens of orders a day, not thousands: movers need fewer orders a month.
SUPERVISION_MOVERS_MIN_ORDERS = 30
