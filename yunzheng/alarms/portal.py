"""What alarms contribute to the staff workbench (see core.portal)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from yunzheng.alarms import access, selectors
from yunzheng.core.portal import WorkQueue


def staff_queues(user: Any) -> list[WorkQueue]:
    counts = selectors.desk_counts(access.viewer_for(user))  # DomainError: not for this account
    return [
        WorkQueue(
            key="alarms.desk",
            title=_("Alarm desk"),
            url=reverse("alarms:desk"),
            count=counts.total,
            overdue=None,  # alarms escalate by themselves; no statutory due date
            action="alarm.handle",
            order=15,
        )
    ]
