"""Staff pages listing the registries (search, status filter, pages of 50), region-scoped by the
selectors. Personal data is masked. Each row opens the record's page (record_views.py), where the
maintenance actions are."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from yunzheng.accounts.permissions import allowed
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import mask_id_number, mask_name
from yunzheng.elicense.models import VehicleTransportCertificate, VehicleViolation
from yunzheng.licensing.models import OperatingLicence
from yunzheng.practitioners.models import (
    CreditAssessment,
    CreditGrade,
    QualificationCertificate,
    VerificationRequest,
)
from yunzheng.registries import selectors
from yunzheng.registries.forms import SearchForm

PAGE_SIZE = 50


@dataclass(frozen=True)
class Row:
    url: str
    cells: list[Any]
    status: str = ""


@dataclass(frozen=True)
class Register:
    key: str
    title: Any
    columns: list[Any]
    statuses: list[tuple[str, Any]]
    query: Callable[..., QuerySet[Any]]  # (user=, q=, status=) -> rows
    row: Callable[[Any], Row]
    search_hint: Any


def _date(value: Any) -> str:
    return value.isoformat() if value else "—"


def _certificate_row(c: QualificationCertificate) -> Row:
    return Row(
        reverse("registries:certificate", args=[c.number]),
        [c.number, mask_name(c.holder_name), mask_id_number(c.holder_id_number or ""), c.issuing_authority,
         _date(c.valid_until), c.get_status_display()],
        c.status,
    )  # fmt: skip


def _vehicle_row(v: VehicleTransportCertificate) -> Row:
    return Row(
        reverse("registries:vehicle", args=[v.certificate_number]),
        [v.plate_number, v.get_plate_colour_display(), v.certificate_number, v.owner_display,
         _date(v.valid_until), _date(v.last_inspection_on), v.get_status_display()],
        v.status,
    )  # fmt: skip


def _inspection_row(v: VehicleTransportCertificate) -> Row:
    return Row(
        reverse("registries:vehicle", args=[v.certificate_number]) + "#inspection",
        [v.plate_number, v.certificate_number, _date(v.last_inspection_on), _date(v.valid_until),
         v.get_status_display()],
        v.status,
    )  # fmt: skip


def _violation_row(v: VehicleViolation) -> Row:
    state = pgettext_lazy("violation", "Remedied") if v.resolved_at else pgettext_lazy("violation", "Open")
    return Row(
        reverse("registries:violation", args=[v.pk]),
        [v.reference or "—", v.plate_number, _date(v.occurred_on), v.description, state],
        "remedied" if v.resolved_at else "open",
    )


def _licence_row(licence: OperatingLicence) -> Row:
    return Row(
        reverse("registries:licence", args=[licence.number]),
        [licence.number, licence.company.name, licence.get_kind_display(), licence.city_code,
         _date(licence.valid_until), licence.get_status_display()],
        licence.status,
    )  # fmt: skip


def _credit_row(result: CreditAssessment) -> Row:
    c = result.certificate
    return Row(
        reverse("registries:certificate", args=[c.number]) + "#credit",
        [c.number, mask_name(c.holder_name), result.cycle_year, result.grade, _date(result.assessed_on),
         result.authority],
        result.grade,
    )  # fmt: skip


def _request_row(r: VerificationRequest) -> Row:
    due = _date(r.due_on) + (" *" if r.due_provisional else "")
    return Row(
        reverse("registries:verification_request", args=[r.pk]),
        [r.certificate_number, r.issuing_authority, mask_name(r.applicant.real_name or ""),
         _date(r.submitted_at), due, r.get_state_display()],
        r.state,
    )  # fmt: skip


def _credit_query(*, user: Any, q: str, status: str) -> QuerySet[Any]:
    return selectors.credit_results(user=user, q=q, grade=status)


def _inspection_query(*, user: Any, q: str, status: str) -> QuerySet[Any]:
    return selectors.inspections(user=user, q=q, state=status)


def _violation_query(*, user: Any, q: str, status: str) -> QuerySet[Any]:
    return selectors.violations(user=user, q=q, state=status)


def _request_query(*, user: Any, q: str, status: str) -> QuerySet[Any]:
    rows = selectors.verification_requests(user=user, state=status)
    return rows.filter(certificate_number__icontains=q.strip()) if q.strip() else rows


_STATUS = _("Status")
REGISTERS: dict[str, Register] = {
    r.key: r
    for r in (
        Register(
            "certificates",
            _("Qualification certificates"),
            [
                _("Certificate number"),
                _("Holder"),
                _("ID number"),
                _("Issuing authority"),
                _("Valid until"),
                _STATUS,
            ],
            list(QualificationCertificate.Status.choices),
            selectors.certificates,
            _certificate_row,
            _("Certificate number, or the holder's full ID number"),
        ),
        Register(
            "vehicles",
            _("Vehicles and road transport certificates"),
            [
                _("Plate"),
                _("Plate colour"),
                _("Certificate number"),
                _("Owner"),
                _("Valid until"),
                _("Last annual inspection"),
                _STATUS,
            ],
            list(VehicleTransportCertificate.Status.choices),
            selectors.vehicle_certificates,
            _vehicle_row,
            _("Plate or certificate number"),
        ),
        Register(
            "inspections",
            _("Annual vehicle inspections"),
            [_("Plate"), _("Certificate number"), _("Last annual inspection"), _("Valid until"), _STATUS],
            [("overdue", _("No inspection in the last year"))],
            _inspection_query,
            _inspection_row,
            _("Plate or certificate number"),
        ),
        Register(
            "violations",
            _("Traffic violations"),
            [_("Record number"), _("Plate"), _("Date"), _("Description"), _("Remedy")],
            [
                ("open", pgettext_lazy("violation", "Open")),
                ("remedied", pgettext_lazy("violation", "Remedied")),
            ],
            _violation_query,
            _violation_row,
            _("Plate or record number"),
        ),
        Register(
            "licences",
            _("Platform operating licences"),
            [_("Licence number"), _("Company"), _("Kind"), _("City"), _("Valid until"), _STATUS],
            list(OperatingLicence.Status.choices),
            selectors.operating_licences,
            _licence_row,
            _("Licence number, company name or credit code"),
        ),
        Register(
            "credit",
            _("Credit assessment results"),
            [
                _("Certificate number"),
                _("Holder"),
                _("Assessment cycle"),
                _("Grade"),
                _("Assessed on"),
                _("Assessing authority"),
            ],
            list(CreditGrade.choices),
            _credit_query,
            _credit_row,
            _("Certificate number"),
        ),
        Register(
            "verification",
            _("Information verification requests"),
            [
                _("Certificate number"),
                _("Issuing authority"),
                _("Applicant"),
                _("Submitted"),
                _("Answer due"),
                _STATUS,
            ],
            [*VerificationRequest.State.choices, ("all", _("All, answered too"))],
            _request_query,
            _request_row,
            _("Certificate number"),
        ),
    )
}


def register_links() -> Iterable[tuple[str, Any, str]]:
    return [(r.key, r.title, reverse("registries:register", args=[r.key])) for r in REGISTERS.values()]


@staff_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    selectors.view_scope(user)
    return render(
        request,
        "registries/registers.html",
        {
            "registers": register_links(),
            "today": today_in_china(),
            "may_manage_credentials": allowed(user, "registry.credential.manage"),
        },
    )


@staff_required
@require_GET
def register(request: HttpRequest, key: str) -> HttpResponse:
    chosen = REGISTERS.get(key)
    if chosen is None:
        return render(request, "registries/registers.html", {"registers": register_links()}, status=404)
    user = current_user(request)
    form = SearchForm(request.GET or None, statuses=chosen.statuses)
    q = status = ""
    if form.is_valid():
        q, status = form.cleaned_data["q"], form.cleaned_data["status"]
    rows = chosen.query(user=user, q=q, status=status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "registries/register.html",
        {
            "register": chosen,
            "form": form,
            "page": page,
            "rows": [chosen.row(item) for item in page.object_list],
            "query": urlencode({k: v for k, v in (("q", q), ("status", status)) if v}),
            "registers": register_links(),
        },
    )
