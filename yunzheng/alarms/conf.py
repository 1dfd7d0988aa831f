"""Settings of the alarms app and their defaults (the one place they are declared).

ALARMS_ESCALATE_MINUTES             an unacknowledged alarm escalates after this many minutes
ALARMS_RULES_RECHECK_SECONDS        how long a process evaluates batches with its compiled rules
                                    before it asks whether a rule changed (rule writes of the same
                                    process take effect at once)
"""

from __future__ import annotations

from yunzheng.core.appsettings import AppSettings

app_settings = AppSettings(
    ALARMS_ESCALATE_MINUTES=10,
    ALARMS_RULES_RECHECK_SECONDS=1.0,
)
