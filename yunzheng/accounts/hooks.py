"""Listeners other apps register for account events (call from AppConfig.ready()).

`contact_changed`: a company's designated contact person was changed (after the legal
representative's signed confirmation). Listeners run inside the change's transaction, so what they
write commits or rolls back with it; licensing tells the authorities handling the company's open
applications.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yunzheng.accounts.models import ContactDesignation

ContactChangedListener = Callable[["ContactDesignation"], object]
_CONTACT_CHANGED: dict[str, ContactChangedListener] = {}


def on_contact_changed(name: str, listener: ContactChangedListener) -> None:
    """Register (or replace, by name) a listener for contact changes."""
    _CONTACT_CHANGED[name] = listener


def contact_changed(designation: ContactDesignation) -> None:
    for listener in list(_CONTACT_CHANGED.values()):
        listener(designation)
