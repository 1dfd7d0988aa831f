"""JSON API of the accounts app, mounted by config/api.py."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["accounts"])
