"""The case history names people and offices, never the audit log's internal `user#N`."""

from __future__ import annotations

import pytest

from yunzheng.accounts.tests.factories import staff, verified_user
from yunzheng.licensing.services._common import history_label

pytestmark = pytest.mark.django_db


def test_staff_are_named_by_office_and_applicants_by_masked_name() -> None:
    clerk = staff("hz-transport")
    clerk.staff_profile.unit_name = "杭州市交通运输局"
    clerk.staff_profile.save()
    assert history_label(clerk) == "杭州市交通运输局 · hz-transport"
    applicant = verified_user("13900001234", name="王芳")
    label = history_label(applicant)
    assert "user#" not in label
    assert label.startswith("王")
    assert "芳" not in label  # masked
    assert history_label(None) == "系统"
