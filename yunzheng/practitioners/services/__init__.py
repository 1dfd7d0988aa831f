"""Every write of the One-Network Office: applications, the case workflow, the certificate registry.

Each service runs in one transaction, is audited (`record_audit`), takes keyword-only arguments and
raises `yunzheng.core.errors.DomainError`s. Case transitions are looked up in `workflow.TABLE`,
recorded as `CaseTransition` rows and audit entries, and announced to the applicant by SMS after
commit. Deadlines come from `deadlines.py` and are stored on the case. `now` can be injected (tests
move time that way).

Applicants are checked against the case (another user's case is "not found"); staff against their
scope (transport department, region covering the certificate's issuing region).
"""

from __future__ import annotations

from yunzheng.practitioners.services._common import (
    CERTIFICATE_VALIDITY_YEARS,
    OFFICE_DEPARTMENTS,
    PROVINCE_ABBREVIATIONS,
    office_scope,
    scope_codes,
)
from yunzheng.practitioners.services.applying import (
    allowed_materials_for,
    case_delivery_save,
    case_draft_create,
    case_draft_discard,
    case_form_save,
    case_material_upload,
    case_submit,
    case_supplement,
    case_withdraw,
    certificates_associate_for_user,
    material_bytes,
    required_materials_for,
)
from yunzheng.practitioners.services.authority import certificate_status_decide
from yunzheng.practitioners.services.credit_results import credit_result_record
from yunzheng.practitioners.services.handling import (
    case_accept,
    case_answer_verification,
    case_approve,
    case_complete,
    case_deadlines_refresh,
    case_reject,
    case_return_for_supplement,
)
from yunzheng.practitioners.services.materials import (
    province_material_list_reset,
    province_material_list_set,
)
from yunzheng.practitioners.services.personal import (
    Delivery,
    PersonalInfo,
    personal_info,
    personal_prefill,
)
from yunzheng.practitioners.services.registry import (
    add_years,
    certificate_register,
)
from yunzheng.practitioners.services.verification_requests import (
    REGISTRY_DECISION,
    verification_due_dates_recompute,
    verification_request_accept,
    verification_request_answer,
    verification_request_file,
)
from yunzheng.practitioners.services.viewing import case_staff_view_record, material_staff_view_record

__all__ = [
    "CERTIFICATE_VALIDITY_YEARS",
    "OFFICE_DEPARTMENTS",
    "PROVINCE_ABBREVIATIONS",
    "REGISTRY_DECISION",
    "Delivery",
    "PersonalInfo",
    "add_years",
    "allowed_materials_for",
    "case_accept",
    "case_answer_verification",
    "case_approve",
    "case_complete",
    "case_deadlines_refresh",
    "case_delivery_save",
    "case_draft_create",
    "case_draft_discard",
    "case_form_save",
    "case_material_upload",
    "case_reject",
    "case_return_for_supplement",
    "case_staff_view_record",
    "case_submit",
    "case_supplement",
    "case_withdraw",
    "certificate_register",
    "certificate_status_decide",
    "certificates_associate_for_user",
    "credit_result_record",
    "material_bytes",
    "material_staff_view_record",
    "office_scope",
    "personal_info",
    "personal_prefill",
    "province_material_list_reset",
    "province_material_list_set",
    "required_materials_for",
    "scope_codes",
    "verification_due_dates_recompute",
    "verification_request_accept",
    "verification_request_answer",
    "verification_request_file",
]
