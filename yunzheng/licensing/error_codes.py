"""Stable error codes of the licensing app. They are part of the API: clients branch on them.

Codes from core (`upload.too_large`, `calendar.year_unknown`, ...) and accounts
(`real_name.required`, `staff.required`) pass through unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class LicensingErrorCode(StrEnum):
    # City quota
    QUOTA_CITY_CLOSED = "quota.city_closed"
    QUOTA_NOTICE_REQUIRED = "quota.notice_required"
    CITY_INVALID = "application.city_invalid"

    # Applications and their workflow
    APPLICATION_NOT_FOUND = "application.not_found"
    BLACKLISTED = "credit.blacklisted"
    BLACKLIST_ENTRY_NOT_FOUND = "credit.blacklist_entry_not_found"
    APPLICATION_ALREADY_OPEN = "application.already_open"
    APPLICATION_NATIONAL_LICENCE_REQUIRED = "application.national_licence_required"
    TRANSITION_NOT_ALLOWED = "application.transition_not_allowed"
    NOT_YOUR_TURN = "application.not_responsible"
    REASON_REQUIRED = "application.reason_required"
    FIELD_REQUIRED = "application.field_required"
    MATERIALS_MISSING = "application.materials_missing"
    NOT_A_MEMBER = "company.not_member"

    # Capability review
    ALREADY_DISTRIBUTED = "review.already_distributed"
    NOT_DISTRIBUTED = "review.not_distributed"
    ALREADY_REVIEWED = "review.already_answered"
    REVIEWS_MISSING = "review.opinions_missing"
    ALREADY_EXTENDED = "review.already_extended"
    RECOMMENDATION_INVALID = "review.recommendation_invalid"
    DECISION_INVALID = "review.decision_invalid"
    REVISION_NOT_OVERDUE = "review.revision_not_overdue"
    REVISION_OVERDUE = "review.revision_overdue"

    # Test document, evaluations, licence
    TEST_DOCUMENT_MISSING = "test_document.missing"
    TEST_DOCUMENT_EXPIRED = "test_document.expired"
    TEST_DOCUMENT_STILL_VALID = "test_document.still_valid"
    EVALUATION_MISSING = "evaluation.missing"
    EVALUATION_EXPIRED = "evaluation.expired"
    EVALUATION_INVALID = "evaluation.invalid"
    AGENCY_NOT_QUALIFIED = "evaluation.agency_not_qualified"
    AGENCY_AUTHORISATION_EXPIRED = "evaluation.agency_authorisation_expired"
    LICENCE_INVALID = "licence.invalid"
    DETERMINATION_MISSING = "determination.missing"
    DETERMINATION_EXPIRED = "determination.expired"
    DETERMINATION_NUMBER_TAKEN = "determination.number_taken"
    LICENCE_NOT_FOUND = "licence.not_found"
    LICENCE_EXISTS = "licence.exists"
    LICENCE_TRANSITION_NOT_ALLOWED = "licence.transition_not_allowed"
    LICENCE_REVOKED_FINAL = "licence.revoked_final"

    # Test appointments
    BOOKING_MONTH_NOT_FOUND = "booking.month_not_found"
    BOOKING_MONTH_EXISTS = "booking.month_exists"
    BOOKING_MONTH_PAST = "booking.month_past"
    BOOKING_NOT_OPEN = "booking.not_open"
    BOOKING_FULL = "booking.full"
    BOOKING_ALREADY_BOOKED = "booking.already_booked"
    BOOKING_NOT_ELIGIBLE = "booking.not_eligible"
    BOOKING_BUSY = "booking.busy"
    BOOKING_NOT_FOUND = "booking.not_found"
    SLOTS_INVALID = "booking.slots_invalid"

    # Files
    PDF_INVALID = "upload.not_pdf"
    FILE_NOT_FOUND = "file.not_found"
