"""JSON API of the elicense app, mounted by config/api.py."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["elicense"])
