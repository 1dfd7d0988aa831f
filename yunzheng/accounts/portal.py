"""What accounts contributes to the staff workbench (see core.portal)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from yunzheng.accounts import selectors
from yunzheng.accounts.models import User
from yunzheng.core.portal import WorkQueue


def staff_queues(user: User) -> list[WorkQueue]:
    count, overdue = selectors.realname_review_counts(staff_user=user)
    return [
        WorkQueue(
            key="accounts.realname",
            title=_("Real-name reviews"),
            url=reverse("accounts:staff_realname_queue"),
            count=count,
            overdue=overdue,
            action="realname.review",
            order=10,
        )
    ]
