"""Stable error codes of the supervision app (part of the API: clients branch on them)."""

from __future__ import annotations

from enum import StrEnum


class SupervisionErrorCode(StrEnum):
    MONTH_INVALID = "supervision.month_invalid"
    REGION_INVALID = "supervision.region_invalid"
    KIND_INVALID = "supervision.kind_invalid"
    REGISTRY_UNAVAILABLE = "supervision.registry_unavailable"
    NOT_FOUND = "supervision.not_found"
    OUT_OF_SCOPE = "supervision.out_of_scope"
    DEPARTMENT = "supervision.department"
    EXPORT_UNKNOWN = "supervision.export_unknown"
