"""Settings of the alarms app and their defaults (the one place they are declared).

ALARMS_ESCALATE_MINUTES             an unacknowledged alarm escalates after this many minutes
"""

from __future__ import annotations

from yunzheng.core.appsettings import AppSettings

app_settings = AppSettings(
    ALARMS_ESCALATE_MINUTES=10,
)
