"""The compiled rules: re-checked at most every ALARMS_RULES_RECHECK_SECONDS, this process's rule
writes at once (issue #16: the change stamp is no longer a query of every batch)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import override_settings
from django.utils import timezone

from yunzheng.alarms import services
from yunzheng.alarms.live import current_engine
from yunzheng.alarms.models import AlarmRule
from yunzheng.alarms.tests.helpers import clerk


def _create(enabled: bool) -> AlarmRule:
    return services.rule_create(
        user=clerk(),
        name="SOS",
        region_code="330100",
        kind="warn_status",
        severity="critical",
        params={"bits": [0]},
        enabled=enabled,
    )


@override_settings(ALARMS_RULES_RECHECK_SECONDS=3600)
def test_a_rule_written_by_this_process_counts_at_once(db: Any) -> None:
    assert current_engine().interfaces == frozenset()
    _create(enabled=True)
    assert "positionVehicle" in current_engine().interfaces


def test_a_rule_changed_elsewhere_counts_after_the_recheck_period(
    db: Any, django_assert_num_queries: Any
) -> None:
    created = _create(enabled=False)
    with override_settings(ALARMS_RULES_RECHECK_SECONDS=3600):
        assert current_engine().interfaces == frozenset()
        # Another worker enabled it (its own process forgot its engine; this one did not).
        AlarmRule.objects.filter(pk=created.pk).update(
            enabled=True, updated_at=timezone.now() + timedelta(seconds=1)
        )
        with django_assert_num_queries(0):  # within the period: no stamp query per batch
            assert current_engine().interfaces == frozenset()
    with override_settings(ALARMS_RULES_RECHECK_SECONDS=0):
        assert "positionVehicle" in current_engine().interfaces
