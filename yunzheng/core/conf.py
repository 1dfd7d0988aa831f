"""Settings read by core and their defaults (the one place they are declared).

STAFF_SESSION_IDLE_SECONDS / _MAX_SECONDS  a staff session ends after this idle time / age
FIELD_ENCRYPTION_KEYS               key id -> hex SM4 key for personal data (required)
FIELD_ENCRYPTION_ACTIVE_KEY_ID      the key new values are sealed with (required)
FIELD_HASH_KEY                      hex key of the lookup hashes (required)
PRIVATE_MEDIA_ROOT                  the encrypted private file store (default: under MEDIA_ROOT)
AUDIT_CHECKPOINT_PUBLIC_KEY / _PRIVATE_KEY  SM2 keys signing the audit chain's checkpoints
AUDIT_CHECKPOINT_EXPORT             where signed checkpoints are written outside the database
STATUTORY_CALENDAR_RECOMPUTERS      dotted paths called when a statutory calendar year changes
SMS_BACKEND                         the SMS backend (the console one is refused in production)
WARM_UP_ON_START                    load the OCR models etc. when a worker starts (config/warmup.py)
MACHINE_API_PATH_PREFIXES           paths whose `machine_api` views skip the page middleware
"""

from __future__ import annotations

from yunzheng.core.appsettings import AppSettings

app_settings = AppSettings(
    STAFF_SESSION_IDLE_SECONDS=30 * 60,
    STAFF_SESSION_MAX_SECONDS=12 * 3600,
    FIELD_ENCRYPTION_KEYS=None,
    FIELD_ENCRYPTION_ACTIVE_KEY_ID="",
    FIELD_HASH_KEY="",
    PRIVATE_MEDIA_ROOT=None,
    AUDIT_CHECKPOINT_PUBLIC_KEY="",
    AUDIT_CHECKPOINT_PRIVATE_KEY="",
    AUDIT_CHECKPOINT_EXPORT="",
    STATUTORY_CALENDAR_RECOMPUTERS=[],
    SMS_BACKEND="",
    WARM_UP_ON_START=True,
    MACHINE_API_PATH_PREFIXES=(),
)
