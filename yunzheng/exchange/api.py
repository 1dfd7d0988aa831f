"""JSON API of the exchange app, mounted by config/api.py."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["exchange"])
