"""Done means (issue #14): a test walks the whole permission table — for each action, one account
of every department and level tries it, and exactly the allowed ones succeed, through the API and
the pages.

For every action of `PERMISSIONS` a scenario (walk_*.py) takes the action once per account through
each of its channels: its API endpoint and its page (the POST of the real form, or the GET of a
read). The expected outcome comes from the table alone (`permission_walk.table_allows`): allowed
-> 2xx/3xx and the state changed (a read: the item shown and the viewing audited); refused -> 403
with a `staff.*` code (the API) or the page's refusal (403, 404 for items a page hides, or the page
again with an error message), and the state unchanged. An action without a scenario fails the walk.

Each scenario names its channels (`api`, `page`) or says why an action has none (`no_api`,
`no_page`); CHANNELS / channel_table() below gather them into the table of channels per action.
"""

from __future__ import annotations

from typing import Any

import pytest

from yunzheng.accounts.permissions import PERMISSIONS, permission
from yunzheng.web.tests import walk_accounts_elicense as ae
from yunzheng.web.tests import walk_licensing_alarms as lic
from yunzheng.web.tests import walk_office_registry as office
from yunzheng.web.tests.permission_walk import Env, Scenario, accounts, walk

pytestmark = pytest.mark.django_db

SCENARIOS: dict[str, type[Scenario]] = {
    scenario.action: scenario
    for scenario in (
        ae.RealNameReview,
        ae.PermissionsView,
        ae.LicenceStatus,
        ae.LicenceView,
        ae.SupervisionCompute,
        ae.CalendarMaintain,
        office.OfficeCaseHandle,
        office.OfficeContactMaintain,
        office.RegistryView,
        office.RegistryMaintain,
        office.OperatingLicenceMaintain,
        office.RegistryImport,
        office.RegistryCredentialManage,
        lic.StepAct,
        lic.DepartmentReview,
        lic.RecordResult,
        lic.DocumentIssue,
        lic.OfficialStart,
        lic.TrafficPassReview,
        lic.AlarmHandle,
    )
}

#: action -> (API channel or why none, page channel or why none): the table of channels.
CHANNELS = {
    action: (s.api or f"none: {s.no_api}", s.page or f"none: {s.no_page}") for action, s in SCENARIOS.items()
}


def channel_table() -> str:
    """The channels as Markdown (`python -c "from yunzheng.web.tests.test_permission_walk_end_to_end
    import channel_table; print(channel_table())"` with Django set up), for issue reports."""
    rows = ["| action | API | page |", "| --- | --- | --- |"]
    rows += [f"| `{action}` | {api} | {page} |" for action, (api, page) in CHANNELS.items()]
    return "\n".join(rows)


def test_every_action_of_the_table_has_a_walk_with_at_least_one_channel() -> None:
    assert set(SCENARIOS) == {p.action for p in PERMISSIONS}
    for action, scenario in SCENARIOS.items():
        assert scenario.api or scenario.page, action
        assert scenario.api or scenario.no_api, f"{action}: say why there is no API"
        assert scenario.page or scenario.no_page, f"{action}: say why there is no page"


@pytest.mark.parametrize("action", [p.action for p in PERMISSIONS])
def test_exactly_the_allowed_accounts_succeed(
    action: str, settings: Any, monkeypatch: Any, tmp_path: Any
) -> None:
    scenario_type = SCENARIOS.get(action)
    assert scenario_type is not None, f"{action} has no walk scenario"
    env = Env(settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path)
    env.accounts = accounts(scenario_type.regions)
    scenario = scenario_type(env)
    attempts = list(walk(scenario, permission(action)))
    wrong = [a for a in attempts if not a.as_expected]
    assert not wrong, "\n".join(map(str, wrong))
    channels = (scenario.api is not None) + (scenario.page is not None)
    assert len(attempts) == 18 * channels
    assert any(a.expected for a in attempts)
    assert any(not a.expected for a in attempts)
