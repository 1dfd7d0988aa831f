"""Pages of the One-Network Office (道路运政一网通办).

Drivers (phone-sized): service list -> instructions and agreement -> certificate -> personal
information -> delivery (when a new certificate results) -> materials -> review and submit ->
My Office (我的办件) with each case's timeline, due dates and outcome; vouchers; verification of
wrong data. Staff (desk-sized): the queue of their region and the case page with its actions.
Views parse forms and call services or selectors; no business rules here.
"""

from __future__ import annotations

from yunzheng.practitioners.views._common import (
    AGREED_SESSION_KEY,
)
from yunzheng.practitioners.views.applying import (
    case_delivery,
    case_discard,
    case_info,
    case_materials,
    case_review,
    office_home,
    service_certificate,
    service_detail,
)
from yunzheng.practitioners.views.mine import (
    case_detail,
    case_supplement,
    case_withdraw,
    material_file,
    my_cases,
    my_certificates,
    voucher_pdf,
    voucher_png,
)
from yunzheng.practitioners.views.staff import (
    staff_case,
    staff_contacts,
    staff_material_lists,
    staff_queue,
)

__all__ = [
    "AGREED_SESSION_KEY",
    "case_delivery",
    "case_detail",
    "case_discard",
    "case_info",
    "case_materials",
    "case_review",
    "case_supplement",
    "case_withdraw",
    "material_file",
    "my_cases",
    "my_certificates",
    "office_home",
    "service_certificate",
    "service_detail",
    "staff_case",
    "staff_contacts",
    "staff_material_lists",
    "staff_queue",
    "voucher_pdf",
    "voucher_png",
]
