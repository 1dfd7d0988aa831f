"""Stable error codes of the conformance app. They are part of the API: clients branch on them.

Codes from accounts (`real_name.required`, `staff.required`) pass through unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class ConformanceErrorCode(StrEnum):
    COMPANY_NOT_FOUND = "conformance.company_not_found"
    CAMPAIGN_NOT_FOUND = "conformance.campaign_not_found"
    CAMPAIGN_NOT_OPEN = "conformance.campaign_not_open"
    CYCLE_NOT_FOUND = "conformance.cycle_not_found"
    CYCLE_ALREADY_OPEN = "conformance.cycle_already_open"
    CYCLE_NOT_OPEN = "conformance.cycle_not_open"
    CYCLE_LIMIT_REACHED = "conformance.cycle_limit_reached"
    OFFICIAL_CYCLE_RUNNING = "conformance.official_cycle_running"
    NOT_ALLOWED = "conformance.not_allowed"
    BOOKING_NOT_FOUND = "conformance.booking_not_found"
    BOOKING_NOT_THIS_MONTH = "conformance.booking_not_this_month"
    FIELD_INVALID = "conformance.field_invalid"
    SPEC_VERSION_UNKNOWN = "conformance.spec_version_unknown"
