"""Settings of the supervision app and their defaults (the one place they are declared)."""

from __future__ import annotations

from yunzheng.core.appsettings import AppSettings

app_settings = AppSettings(
    SUPERVISION_REGION_BOUNDS={},
    SUPERVISION_LICENCE_SOURCES=None,
    SUPERVISION_COMPUTE_WORK_MEM="256MB",
    SUPERVISION_VEHICLE_SCOPE_KEYWORDS=("网络预约", "网约"),
    SUPERVISION_TOP_PLATFORMS=10,
    SUPERVISION_MOVERS_MIN_ORDERS=1000,
    SUPERVISION_MAP_MINUTES=30,
    SUPERVISION_MAP_MAX_VEHICLES=5000,
    SUPERVISION_LAG_LIMIT_SECONDS=300,
    SUPERVISION_SILENCE_HOURS=24,
    SUPERVISION_REJECT_SHARE_LIMIT=0.01,
    SUPERVISION_POSITION_CHECK_HOURS=24,
)
