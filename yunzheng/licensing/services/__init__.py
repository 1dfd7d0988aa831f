"""Every write of the licensing app.

(Services about the platform's connectivity *tests* are named test_…; they are not pytest tests,
hence the PT028 exemption in the modules that define them.)

Each service runs in one transaction, is audited (core.audit.record_audit), takes keyword-only
arguments and raises DomainErrors with the codes in error_codes.py. `now` can be injected (tests
shift time that way). The transition table is workflow.TRANSITIONS; `_move` is the one place that
changes an application's step, closes and opens Stage rows, writes the history and notifies.

Settings and their defaults: licensing/conf.py.
"""

from __future__ import annotations

from yunzheng.licensing.services._common import (
    notify,
)
from yunzheng.licensing.services.application import (
    QUOTA_MATERIAL_KINDS,
    application_create,
    application_withdraw,
    company_info_complete,
    material_upload,
    ministry_refuse,
    ministry_reply_record,
    quota_materials_submit,
    quota_return,
    test_account_open,
    vpn_account_open,
    work_letter_send,
)
from yunzheng.licensing.services.blacklist import (
    active_blacklist_entry,
    blacklist_entry_lift,
    blacklist_entry_record,
    blacklist_require_clear,
)
from yunzheng.licensing.services.booking import (
    ServiceBusy,
    default_opens_at,
    test_booking_cancel,
    test_booking_create,
    test_slot_month_add_capacity,
    test_slot_month_create,
)
from yunzheng.licensing.services.capability import (
    capability_decide,
    capability_distribute,
    capability_extend,
    capability_forward,
    capability_initial_review,
    capability_resubmit,
    capability_revision_lapse,
    capability_revisions_lapse_overdue,
    capability_submit,
    department_review_submit,
)
from yunzheng.licensing.services.compliance import (
    compliance_flags_clear_for,
    compliance_flags_raise,
)
from yunzheng.licensing.services.contact import contact_change_notify_authorities
from yunzheng.licensing.services.determination import (
    current_determination,
    determination_require_valid,
    determination_valid_years,
    local_evaluations_required,
    local_review,
)
from yunzheng.licensing.services.evaluations import (
    evaluation_agency_register,
    evaluations_require_valid,
    evaluations_submit,
    security_evaluation_record,
)
from yunzheng.licensing.services.grant import (
    licence_grant,
    licence_refuse,
)
from yunzheng.licensing.services.operating_licences import (
    operating_licence_cancel,
    operating_licence_change,
    operating_licence_decide,
    operating_licence_issue,
    operating_licence_reinstate,
    operating_licence_renew,
    operating_licence_revoke,
    operating_licence_suspend,
)
from yunzheng.licensing.services.quota import (
    city_quota_set,
)
from yunzheng.licensing.services.reminders import (
    notification_mark_read,
    reminders_send,
    stage_deadlines_refresh,
)
from yunzheng.licensing.services.testing import (
    application_retest,
    test_booking_failed_by_official_run,
    test_passed_document_record,
    test_result_record,
)

__all__ = [
    "QUOTA_MATERIAL_KINDS",
    "ServiceBusy",
    "active_blacklist_entry",
    "application_create",
    "application_retest",
    "application_withdraw",
    "blacklist_entry_lift",
    "blacklist_entry_record",
    "blacklist_require_clear",
    "capability_decide",
    "capability_distribute",
    "capability_extend",
    "capability_forward",
    "capability_initial_review",
    "capability_resubmit",
    "capability_revision_lapse",
    "capability_revisions_lapse_overdue",
    "capability_submit",
    "city_quota_set",
    "company_info_complete",
    "compliance_flags_clear_for",
    "compliance_flags_raise",
    "contact_change_notify_authorities",
    "current_determination",
    "default_opens_at",
    "department_review_submit",
    "determination_require_valid",
    "determination_valid_years",
    "evaluation_agency_register",
    "evaluations_require_valid",
    "evaluations_submit",
    "licence_grant",
    "licence_refuse",
    "local_evaluations_required",
    "local_review",
    "material_upload",
    "ministry_refuse",
    "ministry_reply_record",
    "notification_mark_read",
    "notify",
    "operating_licence_cancel",
    "operating_licence_change",
    "operating_licence_decide",
    "operating_licence_issue",
    "operating_licence_reinstate",
    "operating_licence_renew",
    "operating_licence_revoke",
    "operating_licence_suspend",
    "quota_materials_submit",
    "quota_return",
    "reminders_send",
    "security_evaluation_record",
    "stage_deadlines_refresh",
    "test_account_open",
    "test_booking_cancel",
    "test_booking_create",
    "test_booking_failed_by_official_run",
    "test_passed_document_record",
    "test_result_record",
    "test_slot_month_add_capacity",
    "test_slot_month_create",
    "vpn_account_open",
    "work_letter_send",
]
