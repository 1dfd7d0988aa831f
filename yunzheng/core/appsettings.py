"""Per-app settings with their defaults in one place: each app's `conf.py`.

    # yunzheng/licensing/conf.py
    app_settings = AppSettings(LICENSING_SLOT_CAPACITY=20, ...)

    # anywhere in the app
    capacity = app_settings.LICENSING_SLOT_CAPACITY

A name is read from Django's settings on every access (so `override_settings` in tests works) and
falls back to the default declared in the app's conf.py; an undeclared name is an AttributeError,
so a typo cannot silently read a default.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


class AppSettings:
    def __init__(self, **defaults: Any) -> None:
        self._defaults = defaults

    def __getattr__(self, name: str) -> Any:
        defaults = self.__dict__.get("_defaults", {})
        if name not in defaults:
            raise AttributeError(f"{name} is not a declared setting of this app")
        return getattr(settings, name, defaults[name])

    def defaults(self) -> dict[str, Any]:
        return dict(self._defaults)
