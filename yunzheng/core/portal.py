"""The portal registry: what each app contributes to the role homes and the staff workbench.

Each app may have a module `yunzheng.<app>.portal` with any of these functions (all optional):

    def staff_queues(user) -> list[WorkQueue]       # queues this staff member may act on
    def staff_pages(user) -> list[Destination]      # dashboards and lists this staff member may see

A function returns only what the account may see: it asks the app's own selectors, which apply
the department / level / region rules (a selector raising `PermissionDenied` means "not for this
account", and the registry drops that contribution). The web app renders what is collected; it
never queries another app's models. New queues (alarm desk, registry imports, calendar...) are a
new function in the owning app's `portal.py`, nothing else.
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
    action: str = ""  # the permission action that lets an account act on this queue
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


def _collect(hook: str, user: Any) -> list[Any]:
    items: list[Any] = []
    for module in _portal_modules():
        function: Callable[[Any], list[Any]] | None = getattr(module, hook, None)
        if function is None:
            continue
        try:
            items.extend(function(user))
        except DomainError:
            # The app's selectors said this account may not see it: nothing to contribute.
            continue
    return items


def staff_queues(user: Any) -> list[WorkQueue]:
    """Every queue the staff member may act on, from every app, in display order."""
    return sorted(_collect("staff_queues", user), key=lambda q: (q.order, q.key))


def staff_pages(user: Any) -> list[Destination]:
    """Every page beyond the queues (dashboards, exchange, registers) the staff member may see."""
    return sorted(_collect("staff_pages", user), key=lambda d: (d.order, d.key))
