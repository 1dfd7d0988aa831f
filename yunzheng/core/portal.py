"""The portal registry: what each app contributes to the role homes and the staff workbench.

Each app may have a module `yunzheng.<app>.portal` with any of these functions (all optional):

    def staff_queues(user) -> list[WorkQueue]       # queues this staff member may act on
    def staff_pages(user) -> list[Destination]      # dashboards and lists this staff member may see

Who sees what follows the one permission table (`accounts.permissions`): every queue names the
action it needs (`WorkQueue.action`, required) and a page may name one (`Destination.action`);
`_collect` keeps an item only when the table allows that action to the account (department and
level; the app's own selectors then filter the items by the account's region). accounts registers
the check at start-up (`register_authorizer`): core imports no domain app. A selector raising a
DomainError still means "not for this account", and the registry drops that contribution. The
web app renders what is collected; it never queries another app's models. New queues (alarm
desk, registry imports, calendar...) are a new function in the owning app's `portal.py`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from django.apps import apps

from yunzheng.core.errors import DomainError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkQueue:
    """One queue of the workbench: how many items wait, and how many are past their due date."""

    key: str  # stable, "<app>.<queue>": tests and the permission table name queues by it
    title: str
    url: str
    count: int
    overdue: int | None = None  # None: this queue has no statutory deadline
    action: str = ""  # the permission-table action needed to act on this queue (required)
    order: int = 100


@dataclass(frozen=True)
class Destination:
    """A page an account may open from its home (dashboards, registers, lists)."""

    key: str
    title: str
    url: str
    summary: str = ""
    in_header: bool = False  # also shown in the common header for this role
    order: int = 100
    action: str = ""  # the permission-table action needed to open it ("" : the app's selectors decide)


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    url: str = ""


@dataclass(frozen=True)
class Panel:
    """A block of a role's home: a few facts (counts, states, next steps) and where to go."""

    key: str
    title: str
    facts: list[Fact] = field(default_factory=list)
    links: list[Destination] = field(default_factory=list)
    empty: str = ""  # said when there are no facts


def _portal_modules() -> list[ModuleType]:
    modules = []
    for app_config in apps.get_app_configs():
        # Not core itself: this module is `yunzheng.core.portal` and has the collectors' names.
        if not app_config.name.startswith("yunzheng.") or app_config.name == "yunzheng.core":
            continue
        try:
            modules.append(importlib.import_module(f"{app_config.name}.portal"))
        except ModuleNotFoundError as missing:
            if missing.name != f"{app_config.name}.portal":
                raise
    return modules


Authorizer = Callable[[Any, str], bool]
_authorizer: Authorizer | None = None


def register_authorizer(function: Authorizer) -> None:
    """Called once by accounts at start-up with `permissions.allowed(user, action)`."""
    global _authorizer
    _authorizer = function


def _allowed(user: Any, action: str) -> bool:
    if _authorizer is None:
        raise RuntimeError("no portal authorizer registered (accounts is not installed?)")
    return _authorizer(user, action)


def _collect(hook: str, user: Any) -> list[Any]:
    items: list[Any] = []
    for module in _portal_modules():
        function: Callable[[Any], list[Any]] | None = getattr(module, hook, None)
        if function is None:
            continue
        try:
            contributed = list(function(user))
        except DomainError:
            # The app's selectors said this account may not see it: nothing to contribute.
            continue
        for item in contributed:
            if isinstance(item, WorkQueue) and not item.action:
                raise ValueError(f"queue {item.key} names no permission action")
            if item.action and not _allowed(user, item.action):
                continue
            items.append(item)
    return items


def staff_queues(user: Any) -> list[WorkQueue]:
    """Every queue the staff member may act on, from every app, in display order."""
    return sorted(_collect("staff_queues", user), key=lambda q: (q.order, q.key))


def staff_pages(user: Any) -> list[Destination]:
    """Every page beyond the queues (dashboards, exchange, registers) the staff member may see."""
    return sorted(_collect("staff_pages", user), key=lambda d: (d.order, d.key))
