"""JSON API of the One-Network Office for the mini-program and app clients (/api/v1/office/)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["office"])
