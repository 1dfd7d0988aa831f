"""Every write of the accounts app (company credentials live in `credentials.py`), by topic:
sms_login, tokens, realname, companies, staff. Import from here: `from yunzheng.accounts import services`.

Each service runs in one transaction, is audited, takes keyword-only arguments and raises
`yunzheng.core.errors.DomainError`s. Where time matters, `now` can be injected (tests shift time
that way; nothing here sleeps or reads a clock twice).

Limits (settings, with defaults):
    ACCOUNTS_SMS_CODE_TTL_SECONDS = 300      a code is valid for 5 minutes
    ACCOUNTS_SMS_RESEND_SECONDS = 60         a new code only after 1 minute
    ACCOUNTS_SMS_MAX_ATTEMPTS = 5            wrong attempts before the code dies ...
    ACCOUNTS_SMS_LOCK_SECONDS = 1800         ... and the phone is locked for 30 minutes
    ACCOUNTS_SMS_PER_PHONE_HOUR = 5          codes per phone per hour
    ACCOUNTS_SMS_PER_PHONE_DAY = 10          codes per phone per day
    ACCOUNTS_SMS_PER_IP_HOUR = 30            codes per client IP per hour
    ACCOUNTS_USER_TOKEN_TTL_DAYS = 30        API bearer tokens
    ACCOUNTS_REALNAME_UPLOADS_PER_HOUR = 10  ID photos (each costs ~2 s of OCR) per user per hour

    ACCOUNTS_TRUSTED_PROXY_COUNT = 0         see auth.client_ip
    ACCOUNTS_OCR_USE_CLS = False             rapidocr's text-direction classifier (ocr.py)
    PRIVATE_MEDIA_ROOT = MEDIA_ROOT/private            encrypted ID photos (core.private_files)
    IDENTITY_VERIFICATION_BACKEND = "yunzheng.accounts.identity.ManualReviewBackend"

The client IP (per-IP limits, consent records) is REMOTE_ADDR (`auth.client_ip`). Behind a reverse
proxy, either the proxy setup delivers the real client address as REMOTE_ADDR, or set
ACCOUNTS_TRUSTED_PROXY_COUNT; X-Forwarded-For is never trusted by default, since any client can
send it.
"""

from __future__ import annotations

from yunzheng.accounts.services.companies import (
    company_contact_candidate,
    company_contact_change,
    company_contact_may_designate,
    company_credential_issue,
    company_credential_withdraw,
    company_get_or_create_for_operator,
    company_id_assign,
    company_id_validate,
    company_member_add,
    company_register,
)
from yunzheng.accounts.services.realname import (
    REAL_NAME_REVIEW_DEPARTMENTS,
    RealNameSubmission,
    realname_draft_purge,
    realname_photo_bytes,
    realname_photo_upload,
    realname_staff_access_record,
    realname_submission_check,
    realname_verification_approve,
    realname_verification_record_in_person,
    realname_verification_reject,
    realname_verification_submit,
)
from yunzheng.accounts.services.sms_login import (
    SMS_CODE_LENGTH,
    LoginResult,
    SmsCodeIssued,
    SmsLimits,
    sms_code_purge,
    sms_code_request,
    sms_limits,
    sms_login,
)
from yunzheng.accounts.services.staff import (
    staff_otp_verify,
    staff_password_check,
    staff_region_validate,
    staff_totp_device_create,
    staff_user_create,
)
from yunzheng.accounts.services.staff_security import (
    staff_credential_link_find,
    staff_credential_link_issue,
    staff_enrolment_finish,
    staff_enrolment_start,
    staff_login_failure_record,
    staff_login_guard,
    staff_password_change,
    staff_password_reset,
)
from yunzheng.accounts.services.tokens import (
    USER_TOKEN_PREFIX,
    IssuedUserToken,
    authenticate_user_token,
    user_logout_recorded,
    user_token_create,
    user_token_revoke,
)

__all__ = [
    "REAL_NAME_REVIEW_DEPARTMENTS",
    "SMS_CODE_LENGTH",
    "USER_TOKEN_PREFIX",
    "IssuedUserToken",
    "LoginResult",
    "RealNameSubmission",
    "SmsCodeIssued",
    "SmsLimits",
    "authenticate_user_token",
    "company_contact_candidate",
    "company_contact_change",
    "company_contact_may_designate",
    "company_credential_issue",
    "company_credential_withdraw",
    "company_get_or_create_for_operator",
    "company_id_assign",
    "company_id_validate",
    "company_member_add",
    "company_register",
    "realname_draft_purge",
    "realname_photo_bytes",
    "realname_photo_upload",
    "realname_staff_access_record",
    "realname_submission_check",
    "realname_verification_approve",
    "realname_verification_record_in_person",
    "realname_verification_reject",
    "realname_verification_submit",
    "sms_code_purge",
    "sms_code_request",
    "sms_limits",
    "sms_login",
    "staff_credential_link_find",
    "staff_credential_link_issue",
    "staff_enrolment_finish",
    "staff_enrolment_start",
    "staff_login_failure_record",
    "staff_login_guard",
    "staff_otp_verify",
    "staff_password_change",
    "staff_password_check",
    "staff_password_reset",
    "staff_region_validate",
    "staff_totp_device_create",
    "staff_user_create",
    "user_logout_recorded",
    "user_token_create",
    "user_token_revoke",
]
