"""Settings of the elicense app and their defaults (the one place they are declared)."""

from __future__ import annotations

from yunzheng.core.appsettings import AppSettings

app_settings = AppSettings(
    ELICENSE_TRAFFIC_PASS_REGION="120000",  # noqa: S106 (a region code, not a password)
    ELICENSE_SYNC_TIMELINESS_MINUTES=5,
    ELICENSE_SYNC_REPORT_LIMIT=500,
    ELICENSE_PUBLIC_BASE_URL="",
    ELICENSE_VERIFY_RATE_LIMIT=60,
    ELICENSE_VERIFY_RATE_WINDOW_SECONDS=60,
    ELICENSE_SHARE_CODE_TTL_MINUTES=10,
    ELICENSE_KEY_SIGNING_DAYS=365,
    ELICENSE_KEY_VERIFY_GRACE_DAYS=1095,
    ELICENSE_TRUST_LIST_TTL_HOURS=24,
    ELICENSE_CJK_FONT_PATH="/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
