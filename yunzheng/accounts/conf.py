"""Settings of the accounts app and their defaults (the one place they are declared).

SMS login (services/sms_login.py):
    ACCOUNTS_SMS_CODE_TTL_SECONDS       how long a login code is valid
    ACCOUNTS_SMS_RESEND_SECONDS         wait before another code to the same phone
    ACCOUNTS_SMS_MAX_ATTEMPTS           wrong codes before the phone is locked
    ACCOUNTS_SMS_LOCK_SECONDS           how long it stays locked
    ACCOUNTS_SMS_PER_PHONE_HOUR / _DAY  codes per phone per hour / day
    ACCOUNTS_SMS_PER_IP_HOUR            codes per client address per hour
Sessions and tokens:
    ACCOUNTS_USER_TOKEN_TTL_DAYS        API bearer tokens of users
    ACCOUNTS_TRUSTED_PROXY_COUNT        reverse proxies of ours appending to X-Forwarded-For (0: none)
Real-name verification:
    ACCOUNTS_REALNAME_UPLOADS_PER_HOUR  ID photo uploads per user per hour
    ACCOUNTS_REALNAME_OPEN_DRAFTS       unfinished submissions a user may keep
    IDENTITY_VERIFICATION_BACKEND       dotted path of the IdentityVerificationBackend
    ACCOUNTS_OCR_QUEUE                  ID photos read at the same time per process
    ACCOUNTS_OCR_USE_CLS                let the OCR classify text direction
    ACCOUNTS_OCR_DETECTION_SIDE         longest image side the text detector sees
    ACCOUNTS_OCR_THREADS                threads of the OCR runtime
Staff sign-in (services/staff_security.py):
    STAFF_LOCKOUT_BASE_SECONDS / _MAX_SECONDS  first and longest lockout after failed sign-ins
    STAFF_LOCKOUT_ACCOUNT_THRESHOLD     failures per account before a lockout
    STAFF_LOCKOUT_IP_THRESHOLD          failures per client address before a lockout
    STAFF_CREDENTIAL_LINK_HOURS         validity of enrolment and password-reset links
"""

from __future__ import annotations

from yunzheng.core.appsettings import AppSettings

app_settings = AppSettings(
    ACCOUNTS_SMS_CODE_TTL_SECONDS=300,
    ACCOUNTS_SMS_RESEND_SECONDS=60,
    ACCOUNTS_SMS_MAX_ATTEMPTS=5,
    ACCOUNTS_SMS_LOCK_SECONDS=1800,
    ACCOUNTS_SMS_PER_PHONE_HOUR=5,
    ACCOUNTS_SMS_PER_PHONE_DAY=10,
    ACCOUNTS_SMS_PER_IP_HOUR=30,
    ACCOUNTS_USER_TOKEN_TTL_DAYS=30,
    ACCOUNTS_TRUSTED_PROXY_COUNT=0,
    ACCOUNTS_REALNAME_UPLOADS_PER_HOUR=10,
    ACCOUNTS_REALNAME_OPEN_DRAFTS=3,
    IDENTITY_VERIFICATION_BACKEND="yunzheng.accounts.identity.ManualReviewBackend",
    ACCOUNTS_OCR_QUEUE=2,
    ACCOUNTS_OCR_USE_CLS=False,
    ACCOUNTS_OCR_DETECTION_SIDE=736,
    ACCOUNTS_OCR_THREADS=1,
    STAFF_LOCKOUT_BASE_SECONDS=60,
    STAFF_LOCKOUT_MAX_SECONDS=24 * 3600,
    STAFF_LOCKOUT_ACCOUNT_THRESHOLD=5,
    STAFF_LOCKOUT_IP_THRESHOLD=20,
    STAFF_CREDENTIAL_LINK_HOURS=72,
)
