"""Production: PostgreSQL from DATABASE_URL, every secret from the environment, HTTPS only."""

from __future__ import annotations

import json

from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_env, env_bool, env_list, env_str

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
DATABASES = {"default": database_from_env(None)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production runs on PostgreSQL: DATABASE_URL must be postgres://…")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No default: the console backend would print login codes into the logs.
SMS_BACKEND = env_str("SMS_BACKEND")

# FIELD_ENCRYPTION_KEYS is a JSON object {"key id": "32 hex chars", ...}; old ids stay for decryption.
FIELD_ENCRYPTION_KEYS = json.loads(env_str("FIELD_ENCRYPTION_KEYS"))
FIELD_ENCRYPTION_ACTIVE_KEY_ID = env_str("FIELD_ENCRYPTION_ACTIVE_KEY_ID")
FIELD_HASH_KEY = env_str("FIELD_HASH_KEY")
