"""JSON API of the supervision app, mounted by config/api.py at /api/v1/supervision/."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["supervision"])
