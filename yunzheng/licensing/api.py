"""JSON API of the licensing app, mounted by config/api.py at /api/v1/licensing/."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["licensing"])
