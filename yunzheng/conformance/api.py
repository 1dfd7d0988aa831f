"""JSON API of the conformance app, mounted by config/api.py at /api/v1/conformance/."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["conformance"])
