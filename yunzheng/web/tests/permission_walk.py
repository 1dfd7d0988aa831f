"""The machinery of the end-to-end permission walk (test_permission_walk_end_to_end.py).

A *scenario* per action of the permission table says through which channels the action is taken
(its API endpoint, its page's form) and performs it once for one account, answering an `Outcome`:
the response and whether the item's state changed. The walker logs in one staff account of every
department and level (6 x 3 = 18), tries every channel with each, and expects from the table alone
(departments, levels, region rule) exactly which accounts succeed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import translation

from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.permissions import (
    ACTION_NOT_ALLOWED,
    COVERS,
    MUNICIPALITIES,
    NATIONWIDE,
    OUT_OF_SCOPE,
    SAME_CITY,
    SAME_REGION,
    Permission,
)
from yunzheng.elicense.tests.conftest import make_staff, staff_client

DEPARTMENTS = tuple(StaffProfile.Department.values)
LEVELS = tuple(StaffProfile.Level.values)
MINISTRY: str = StaffProfile.Level.MINISTRY.value
PROVINCE: str = StaffProfile.Level.PROVINCE.value
CITY: str = StaffProfile.Level.CITY.value

#: Where the walk's accounts sit unless a scenario says otherwise: the ministry, Zhejiang, Hangzhou.
ZHEJIANG = {MINISTRY: "", PROVINCE: "330000", CITY: "330100"}
PERMISSION_CODES = frozenset({ACTION_NOT_ALLOWED, OUT_OF_SCOPE})


#: What `authorize` answers (and the registry pages' form error), in English and as the pages show it.
REFUSALS = (
    "Your department or level may not do this.",
    "This is outside your region.",
    "Your department, level or region may not do this.",
)


def refusal_texts() -> list[str]:
    texts = []
    for language in ("en", "zh-hans"):
        with translation.override(language):
            texts += [translation.gettext(msgid) for msgid in REFUSALS]
    return texts


def _prefix(region: str) -> str:
    if not region:
        return ""
    return region[:2] if region.endswith("0000") else region[:4] if region.endswith("00") else region


def table_allows(
    permission: Permission, department: str, level: str, own_region: str, item: str | None
) -> bool:
    """What the table promises, restated here rather than asked of `authorize`: department and
    level listed, and the item's region passing the rule (see REGION_RULES)."""
    if department not in permission.departments or level not in permission.levels:
        return False
    if permission.region == NATIONWIDE or item is None:
        return True
    covers = item.startswith(_prefix(own_region))
    if permission.region == COVERS:
        return covers
    if permission.region == SAME_CITY:
        municipal = level == PROVINCE and own_region[:2] in MUNICIPALITIES
        return (level == CITY or municipal) and covers
    if permission.region == SAME_REGION:
        return own_region == item
    raise AssertionError(permission.region)


@dataclass(frozen=True)
class Account:
    department: str
    level: str
    region: str
    user: User
    client: Client


def accounts(regions: dict[str, str]) -> list[Account]:
    """One logged-in account (password and second factor) of every department at every level."""
    found = []
    for department in DEPARTMENTS:
        for level in LEVELS:
            user = make_staff(regions[level], level=level, department=department)
            found.append(Account(department, level, regions[level], user, staff_client(user)))
    return found


@dataclass
class Outcome:
    response: Any  # the test client's response (with .json() and .wsgi_request)
    changed: bool


class Pool:
    """Items to act on, made on demand per key and replaced once an attempt used one up."""

    def __init__(self, make: Callable[[str], Any]) -> None:
        self._make = make
        self._items: dict[str, Any] = {}

    def get(self, key: str = "") -> Any:
        if key not in self._items:
            self._items[key] = self._make(key)
        return self._items[key]

    def spend(self, key: str = "") -> None:
        self._items.pop(key, None)


@dataclass
class Env:
    """What a scenario may use: pytest's settings, monkeypatch and tmp_path fixtures."""

    settings: Any
    monkeypatch: Any
    tmp_path: Any
    accounts: list[Account] = field(default_factory=list)


class Scenario:
    """One action of the table. `api` / `page` name the channel ("POST /path"), or are None with
    `no_api` / `no_page` saying why there is none."""

    action: ClassVar[str]
    item_region: ClassVar[str | None] = "330106"  # a district of Hangzhou
    regions: ClassVar[dict[str, str]] = ZHEJIANG
    api: ClassVar[str | None] = None
    page: ClassVar[str | None] = None
    no_api: ClassVar[str] = ""
    no_page: ClassVar[str] = ""
    #: Error codes the API answers a refusal with (403), and, for items it hides, 404s accepted.
    api_codes: ClassVar[frozenset[str]] = PERMISSION_CODES
    hides_items: ClassVar[bool] = False

    def __init__(self, env: Env) -> None:
        self.env = env

    def try_api(self, account: Account) -> Outcome:
        raise NotImplementedError

    def try_page(self, account: Account) -> Outcome:
        raise NotImplementedError

    # ---- refusals -----------------------------------------------------------------------

    def api_refused(self, response: Any) -> bool:
        if response.status_code == 404 and self.hides_items:
            return True
        if response.status_code != 403:
            return False
        return bool(response.json()["error"]["code"] in self.api_codes)

    def page_refused(self, response: Any) -> bool:
        """The page's refusal: 403 (or 404 where it hides items), or the page again (or a redirect
        to it) showing the permission table's refusal as a form or flash error."""
        if response.status_code == 403 or (response.status_code == 404 and self.hides_items):
            return True
        if response.status_code not in (200, 302, 422):
            return False
        shown = [str(m) for m in get_messages(response.wsgi_request) if m.level == message_levels.ERROR]
        if response.status_code != 302:
            shown.append(response.content.decode())
        return any(text in page for page in shown for text in refusal_texts())


@dataclass(frozen=True)
class Attempt:
    action: str
    channel: str
    department: str
    level: str
    expected: bool
    status: int
    changed: bool
    refused: bool

    @property
    def as_expected(self) -> bool:
        if self.expected:
            return self.status < 400 and self.changed and not self.refused
        return self.refused and not self.changed


def walk(scenario: Scenario, permission: Permission) -> Iterator[Attempt]:
    for channel in ("api", "page"):
        if getattr(scenario, channel) is None:
            continue
        run = scenario.try_api if channel == "api" else scenario.try_page
        refused = scenario.api_refused if channel == "api" else scenario.page_refused
        for account in scenario.env.accounts:
            expected = table_allows(
                permission, account.department, account.level, account.region, scenario.item_region
            )
            outcome = run(account)
            yield Attempt(
                permission.action,
                channel,
                account.department,
                account.level,
                expected,
                outcome.response.status_code,
                outcome.changed,
                refused(outcome.response),
            )
