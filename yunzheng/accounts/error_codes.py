"""Stable error codes of the accounts app. They are part of the API: clients branch on them.

Codes from core (`phone.format`, `id_number.checksum`, `id_number.region`, `upload.too_large`,
`upload.unsupported_type`, `credit_code.checksum`, ...) pass through unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class AccountsErrorCode(StrEnum):
    # Agreements
    AGREEMENT_REQUIRED = "agreement.required"

    # SMS login codes
    SMS_CODE_FORMAT = "sms_code.format"
    SMS_CODE_WRONG = "sms_code.wrong"
    SMS_CODE_EXPIRED = "sms_code.expired"
    SMS_CODE_USED = "sms_code.used"
    SMS_CODE_NOT_REQUESTED = "sms_code.not_requested"
    SMS_CODE_TOO_SOON = "sms_code.too_soon"
    SMS_CODE_LOCKED = "sms_code.locked"
    SMS_CODE_EXHAUSTED = "sms_code.exhausted"
    SMS_CODE_RATE_LIMITED_PHONE = "sms_code.rate_limited_phone"
    SMS_CODE_RATE_LIMITED_IP = "sms_code.rate_limited_ip"
    SMS_LOGIN_NOT_ALLOWED = "sms_login.not_allowed"

    # Real-name verification
    REAL_NAME_REQUIRED = "real_name.required"
    REAL_NAME_ALREADY_VERIFIED = "real_name.already_verified"
    REAL_NAME_PENDING = "real_name.pending"
    REAL_NAME_NOT_DRAFT = "real_name.not_draft"
    REAL_NAME_NOT_PENDING = "real_name.not_pending"
    REAL_NAME_ID_NUMBER_TAKEN = "real_name.id_number_taken"
    REAL_NAME_BIRTH_DATE_MISMATCH = "real_name.birth_date_mismatch"
    REAL_NAME_SEX_MISMATCH = "real_name.sex_mismatch"
    REAL_NAME_NAME_INVALID = "real_name.name_invalid"
    REAL_NAME_FIELD_REQUIRED = "real_name.field_required"
    REAL_NAME_REASON_REQUIRED = "real_name.reason_required"
    REAL_NAME_TOO_MANY_UPLOADS = "real_name.too_many_uploads"
    REAL_NAME_OCR_BUSY = "real_name.ocr_busy"
    REAL_NAME_NOT_FOUND = "real_name.not_found"

    # Staff
    STAFF_REQUIRED = "staff.required"
    STAFF_OUT_OF_SCOPE = "staff.out_of_scope"
    STAFF_DEPARTMENT_NOT_ALLOWED = "staff.department_not_allowed"
    STAFF_REGION_INVALID = "staff.region_invalid"
    STAFF_LOGIN_FAILED = "staff_login.failed"
    STAFF_OTP_WRONG = "staff_login.otp_wrong"
    STAFF_OTP_THROTTLED = "staff_login.otp_throttled"
    STAFF_LOCKED_OUT = "staff_login.locked_out"
    STAFF_NO_DEVICE = "staff_login.no_device"
    STAFF_LINK_INVALID = "staff_link.invalid"
    STAFF_PASSWORD_MISMATCH = "staff_password.mismatch"  # noqa: S105 (an error code)
    STAFF_PASSWORD_WEAK = "staff_password.weak"  # noqa: S105 (an error code)

    # Companies
    COMPANY_ALREADY_REGISTERED = "company.already_registered"
    COMPANY_ID_TAKEN = "company.company_id_taken"
    COMPANY_ID_FORMAT = "company_id.format"
    COMPANY_NOT_FOUND = "company.not_found"
    COMPANY_NOT_CONTACT = "company.not_contact"
    COMPANY_CONTACT_UNKNOWN = "company.contact_unknown"
    COMPANY_CONTACT_UNVERIFIED = "company.contact_unverified"
    COMPANY_CONTACT_UNCHANGED = "company.contact_unchanged"
    COMPANY_CONFIRMATION_REQUIRED = "company.confirmation_required"
    COMPANY_LEGAL_REPRESENTATIVE_CONFIRMATION = "company.legal_representative_confirmation_required"
    COMPANY_REASON_REQUIRED = "company.reason_required"
    COMPANY_FIELD_REQUIRED = "company.field_required"
    COMPANY_MEMBER_EXISTS = "company.member_exists"
    CREDENTIAL_NOT_FOUND = "credential.not_found"
