"""Stable error codes of the elicense app. They are part of the API: clients branch on them.

Verification answers are not errors: they carry `result` and `reason_code` (see verifier.py and
docs/adr/0010-elicense-signed-qr-payload.md for the reason codes).
"""

from __future__ import annotations

from enum import StrEnum


class ElicenseErrorCode(StrEnum):
    # Licences
    LICENCE_NOT_FOUND = "licence.not_found"
    LICENCE_INVALID_INPUT = "licence.invalid_input"
    LICENCE_NOTHING_TO_CHANGE = "licence.nothing_to_change"
    LICENCE_NOT_USABLE = "licence.not_usable"
    LICENCE_STATUS_CONFLICT = "licence.status_conflict"
    REASON_REQUIRED = "licence.reason_required"

    # Keys and trust list
    NO_SIGNING_KEY = "signing_key.missing"
    SIGNING_KEY_EXISTS = "signing_key.exists"
    SIGNING_KEY_NOT_FOUND = "signing_key.not_found"
    PROVINCE_INVALID = "signing_key.province_invalid"

    # Verification and share codes
    VERIFY_RATE_LIMITED = "verify.rate_limited"
    SHARE_CODE_INVALID = "share_code.invalid"
    SHARE_RECIPIENT_REQUIRED = "share_code.recipient_required"

    # Vehicle transport certificates and violations
    PLATE_FORMAT = "plate.format"
    PLATE_FULLWIDTH = "plate.fullwidth"
    VEHICLE_CERTIFICATE_EXISTS = "vehicle_certificate.exists"
    VEHICLE_CERTIFICATE_NOT_FOUND = "vehicle_certificate.not_found"
    VEHICLE_CERTIFICATE_INVALID = "vehicle_certificate.invalid_input"
    VIOLATION_NOT_FOUND = "violation.not_found"

    # Traffic passes
    TP_NOT_FOUND = "traffic_pass.not_found"
    TP_VEHICLE_UNKNOWN = "traffic_pass.vehicle_unknown"
    TP_VEHICLE_NOT_OWNED = "traffic_pass.vehicle_not_owned"
    TP_VEHICLE_NOT_LEGAL = "traffic_pass.vehicle_not_legal"
    TP_VEHICLE_VIOLATIONS = "traffic_pass.unresolved_violations"
    TP_TYPE_INVALID = "traffic_pass.type_invalid"
    TP_SECTIONS_INVALID = "traffic_pass.sections_invalid"
    TP_TIMES_INVALID = "traffic_pass.times_invalid"
    TP_VALIDITY_INVALID = "traffic_pass.validity_invalid"
    TP_ALREADY_PENDING = "traffic_pass.already_pending"
    TP_NOT_PENDING = "traffic_pass.not_pending"
    TP_NOT_APPROVED = "traffic_pass.not_approved"
    TP_COMPANY_NOT_MEMBER = "traffic_pass.company_not_member"
    TP_TASK_INVALID = "traffic_pass.task_invalid"
    TP_DECLARATION_REQUIRED = "traffic_pass.declaration_required"
    TP_NOT_REVIEWED = "traffic_pass.data_review_pending"
    TP_NOT_TRAFFIC_POLICE = "traffic_pass.not_traffic_police"
    TP_TYPE_FIELD_INVALID = "traffic_pass.type_field_invalid"
    TP_MATERIAL_LIMIT = "traffic_pass.material_limit"
