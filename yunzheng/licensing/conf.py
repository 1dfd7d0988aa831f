"""Settings of the licensing app and their defaults (the one place they are declared).

Working days a party has, where the seed gives no statutory length (see deadlines.STEP_DEADLINES):
    LICENSING_CITY_LETTER_WORKING_DAYS        city reviews quota materials, sends the letter
    LICENSING_MINISTRY_ACCOUNT_WORKING_DAYS   ministry opens the test / VPN account
    LICENSING_CITY_FORWARD_WORKING_DAYS       city window passes capability materials on
    LICENSING_DEPARTMENT_REVIEW_WORKING_DAYS  each of the five departments answers
    LICENSING_DECISION_WORKING_DAYS           the licence decision (行政许可法 art. 42)
Other:
    LICENSING_LICENCE_VALID_YEARS             default validity of an operating licence
    LICENSING_DETERMINATION_VALID_YEARS       validity of the online-service-capability
                                              determination (the documents set none: yunzheng default)
    LICENSING_LOCAL_REVIEW_WORKING_DAYS       the second city reviews a local licence application
    LICENSING_SLOT_CAPACITY                   default test slots per month
    LICENSING_SLOT_OPEN_DAY / _HOUR           bookings open at noon on the 1st
    LICENSING_BOOKING_LOCK_TIMEOUT_MS         PostgreSQL lock_timeout inside a booking
    LICENSING_MAX_PDF_BYTES                   largest uploaded PDF
"""

from __future__ import annotations

from yunzheng.core.appsettings import AppSettings

app_settings = AppSettings(
    LICENSING_CITY_LETTER_WORKING_DAYS=10,
    LICENSING_MINISTRY_ACCOUNT_WORKING_DAYS=5,
    LICENSING_CITY_FORWARD_WORKING_DAYS=5,
    LICENSING_DEPARTMENT_REVIEW_WORKING_DAYS=10,
    LICENSING_DECISION_WORKING_DAYS=20,
    LICENSING_LICENCE_VALID_YEARS=4,
    LICENSING_DETERMINATION_VALID_YEARS=4,
    LICENSING_LOCAL_REVIEW_WORKING_DAYS=20,
    LICENSING_SLOT_CAPACITY=20,
    LICENSING_SLOT_OPEN_DAY=1,
    LICENSING_SLOT_OPEN_HOUR=12,
    LICENSING_BOOKING_LOCK_TIMEOUT_MS=5000,
    LICENSING_MAX_PDF_BYTES=20 * 1024 * 1024,
)
