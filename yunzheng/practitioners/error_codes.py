"""Stable error codes of the One-Network Office. They are part of the API: clients branch on them.

Codes from core (`upload.unsupported_type`, `upload.too_large`, `phone.format`, `calendar.year_unknown`)
and accounts (`real_name.required`, `staff.required`) pass through unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class OfficeErrorCode(StrEnum):
    # Finding things (another user's case or material is "not found", never "forbidden")
    CASE_NOT_FOUND = "case.not_found"
    CERTIFICATE_NOT_FOUND = "certificate.not_found"
    MATERIAL_NOT_FOUND = "material.not_found"
    VOUCHER_NOT_FOUND = "voucher.not_found"
    SERVICE_NOT_FOUND = "service.not_found"

    # Applying
    INSTRUCTIONS_NOT_AGREED = "case.instructions_not_agreed"
    CERTIFICATE_NOT_ELIGIBLE = "case.certificate_not_eligible"
    CERTIFICATE_BUSY = "case.certificate_busy"
    NOT_A_DRAFT = "case.not_a_draft"
    NOT_EDITABLE = "case.not_editable"
    FORM_INVALID = "case.form_invalid"
    FORM_INCOMPLETE = "case.form_incomplete"
    FIELD_REQUIRED = "case.field_required"
    PHONE_INVALID = "case.phone_invalid"
    LICENCE_CLASS_INVALID = "case.licence_class_invalid"
    DATE_INVALID = "case.date_invalid"
    NOTHING_CHANGES = "case.nothing_changes"
    CYCLE_YEAR_INVALID = "case.cycle_year_invalid"
    CYCLE_ALREADY_ASSESSED = "case.cycle_already_assessed"
    CATEGORIES_REQUIRED = "case.categories_required"
    CATEGORY_NOT_HELD = "case.category_not_held"
    DELIVERY_REQUIRED = "case.delivery_required"
    DELIVERY_NOT_APPLICABLE = "case.delivery_not_applicable"
    MATERIAL_KIND_NOT_ALLOWED = "material.kind_not_allowed"
    MATERIALS_MISSING = "case.materials_missing"

    # The workflow
    TRANSITION_NOT_ALLOWED = "case.transition_not_allowed"
    WITHDRAW_AFTER_ACCEPTANCE = "case.withdraw_after_acceptance"
    REASON_REQUIRED = "case.reason_required"
    GRADE_REQUIRED = "case.grade_required"
    ANSWER_REQUIRED = "case.answer_required"
    CORRECTION_INVALID = "case.correction_invalid"

    # Staff
    DEPARTMENT_NOT_ALLOWED = "office.department_not_allowed"
    MATERIAL_LIST_INVALID = "office.material_list_invalid"
    OUT_OF_SCOPE = "office.out_of_scope"
    CONTACT_NOT_FOUND = "contact.not_found"
