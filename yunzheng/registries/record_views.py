"""Staff pages of one registry record, with its maintenance actions: Django forms that call the
owning app's services (which check the permission table and the region, and keep the electronic
licence in step). A refused action shows the service's error on the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yunzheng.accounts.permissions import allowed
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.crypto import mask_id_number, mask_name
from yunzheng.core.errors import DomainError
from yunzheng.core.forms import add_domain_error
from yunzheng.elicense import services as elicense_services
from yunzheng.licensing import services as licensing_services
from yunzheng.practitioners import selectors as practitioner_selectors
from yunzheng.practitioners import services as practitioner_services
from yunzheng.registries import forms as registry_forms
from yunzheng.registries import selectors

Action = tuple[type[forms.Form], Callable[[dict[str, Any]], Any], str]


def _handle(
    request: HttpRequest, actions: dict[str, Action], *, may_act: bool, done_url: str
) -> tuple[dict[str, forms.Form], HttpResponse | None]:
    """Unbound forms for GET; for POST, the named form bound and run through its service:
    a redirect on success, the form with the service's error otherwise."""
    bound = {name: form_class(prefix=name) for name, (form_class, _run, _msg) in actions.items()}
    name = request.POST.get("form", "") if request.method == "POST" else ""
    if name in actions:
        form_class, run, done = actions[name]
        form = form_class(request.POST, prefix=name)
        bound[name] = form
        if not may_act:  # the page shows no forms then: say so above it
            messages.error(request, _("Your department, level or region may not do this."))
        elif form.is_valid():
            try:
                run(form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, done)
                return bound, redirect(done_url)
    return bound, None


def _licence_facts(licence: Any) -> dict[str, Any] | None:
    if licence is None:
        return None
    return {
        "lid": licence.lid,
        "status": licence.get_status_display(),
        "code": licence.status,
        "version": licence.version,
    }


@staff_required
@require_http_methods(["GET", "POST"])
def certificate(request: HttpRequest, number: str) -> HttpResponse:
    user = current_user(request)
    record = selectors.certificate(user=user, number=number)
    url = reverse("registries:certificate", args=[record.number])
    actions: dict[str, Action] = {
        "decision": (
            registry_forms.CertificateDecisionForm,
            lambda data: practitioner_services.certificate_status_decide(
                number=record.number, status=data["status"], reason=data["reason"], staff=user
            ),
            _("The decision is recorded; the electronic licence follows."),
        ),
        "credit": (
            registry_forms.CreditResultForm,
            lambda data: practitioner_services.credit_result_record(
                certificate_number=record.number,
                cycle_year=data["cycle_year"],
                grade=data["grade"],
                assessed_on=data["assessed_on"],
                authority=data["authority"],
                staff=user,
            ),
            _("The credit result is recorded; the credit voucher follows."),
        ),
    }
    may_act = selectors.may_maintain(user, record.region_code)
    bound, done = _handle(request, actions, may_act=may_act, done_url=url)
    if done is not None:
        return done
    electronic, vouchers = practitioner_selectors.electronic_licences_of(certificate=record)
    results = [
        (r, _licence_facts(vouchers.get(r.pk))) for r in record.credit_assessments.order_by("-cycle_year")
    ]
    return render(
        request,
        "registries/certificate.html",
        {
            "record": record,
            "holder": mask_name(record.holder_name),
            "id_number": mask_id_number(record.holder_id_number or ""),
            "grants": list(record.grants.all()),
            "electronic": _licence_facts(electronic),
            "results": results,
            "forms": bound,
            "may_act": may_act,
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def vehicle(request: HttpRequest, number: str) -> HttpResponse:
    user = current_user(request)
    record = selectors.vehicle_certificate(user=user, number=number)
    url = reverse("registries:vehicle", args=[record.certificate_number])
    actions: dict[str, Action] = {
        "inspection": (
            registry_forms.InspectionForm,
            lambda data: elicense_services.vehicle_inspection_record(
                certificate_number=record.certificate_number,
                inspected_on=data["inspected_on"],
                passed=data["result"] == "passed",
                valid_until=data["valid_until"],
                staff=user,
            ),
            _("The inspection is recorded; the electronic licence follows."),
        ),
        "decision": (
            registry_forms.VehicleDecisionForm,
            lambda data: elicense_services.vehicle_certificate_decide(
                certificate_number=record.certificate_number,
                decision=data["decision"],
                reason=data["reason"],
                staff=user,
            ),
            _("The decision is recorded; the electronic licence follows."),
        ),
    }
    may_act = selectors.may_maintain(user, record.issuing_region)
    bound, done = _handle(request, actions, may_act=may_act, done_url=url)
    if done is not None:
        return done
    return render(
        request,
        "registries/vehicle.html",
        {
            "record": record,
            "electronic": _licence_facts(
                selectors.electronic_licence_of("elicense.vehicle_certificate", record.pk)
            ),
            "violations": selectors.violations_of_plate(record.plate_number),
            "forms": bound,
            "may_act": may_act,
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def violation(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    record = selectors.violation(user=user, pk=pk)
    url = reverse("registries:violation", args=[record.pk])
    actions: dict[str, Action] = {
        "remedy": (
            registry_forms.RemedyForm,
            lambda data: elicense_services.vehicle_violation_remedy(
                violation_id=record.pk, staff=user, note=data["note"]
            ),
            _("The violation is marked remedied."),
        )
    }
    may_act = record.resolved_at is None and selectors.may_maintain(
        user, elicense_services.violation_region(record)
    )
    bound, done = _handle(request, actions, may_act=may_act, done_url=url)
    if done is not None:
        return done
    return render(
        request, "registries/violation.html", {"record": record, "forms": bound, "may_act": may_act}
    )


@staff_required
@require_http_methods(["GET", "POST"])
def licence(request: HttpRequest, number: str) -> HttpResponse:
    user = current_user(request)
    record = selectors.operating_licence(user=user, number=number)
    url = reverse("registries:licence", args=[record.number])
    actions: dict[str, Action] = {
        "change": (
            registry_forms.LicenceChangeForm,
            lambda data: licensing_services.operating_licence_change(
                number=record.number,
                staff=user,
                scope=data["scope"],
                area=data["area"],
                reason=data["reason"],
            ),
            _("The licence is changed; the electronic licence follows."),
        ),
        "renew": (
            registry_forms.LicenceRenewForm,
            lambda data: licensing_services.operating_licence_renew(
                number=record.number, staff=user, valid_until=data["valid_until"], reason=data["reason"]
            ),
            _("The licence is renewed; the electronic licence follows."),
        ),
        "decision": (
            registry_forms.LicenceDecisionForm,
            lambda data: licensing_services.operating_licence_decide(
                number=record.number, decision=data["decision"], staff=user, reason=data["reason"]
            ),
            _("The decision is recorded; the electronic licence follows."),
        ),
    }
    may_act = selectors.may_maintain(user, record.city_code, action=selectors.LICENCE_MAINTAIN)
    bound, done = _handle(request, actions, may_act=may_act, done_url=url)
    if done is not None:
        return done
    if request.method == "GET":
        bound["change"] = registry_forms.LicenceChangeForm(
            prefix="change", initial={"scope": record.scope, "area": record.area}
        )
    return render(
        request,
        "registries/licence.html",
        {
            "record": record,
            "events": record.events.order_by("-version", "-pk"),
            "electronic": _licence_facts(
                selectors.electronic_licence_of("licensing.operating_licence", record.pk)
            ),
            "forms": bound,
            "may_act": may_act,
            "final": record.status in ("revoked", "cancelled"),
        },
    )


def _issue(user: Any, data: dict[str, Any]) -> Any:
    company = selectors.company_by_credit_code(data["credit_code"])
    return licensing_services.operating_licence_issue(
        company=company,
        kind=data["kind"],
        number=data["number"],
        scope=data["scope"],
        area=data["area"],
        city_code=data["city_code"],
        valid_from=data["valid_from"],
        valid_until=data["valid_until"],
        staff=user,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def licence_issue(request: HttpRequest) -> HttpResponse:
    """Enter a licence in the registry (one issued before the platform, or outside the workflow)."""
    user = current_user(request)
    scope = selectors.view_scope(user)
    initial = {"city_code": scope.region_code[:4] + "00"} if scope.level == "city" else {}
    form = registry_forms.LicenceIssueForm(
        request.POST or None, region_prefix=scope.region_prefix, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            issued = _issue(user, form.cleaned_data)
        except DomainError as error:
            # An unknown company is about the credit code typed in.
            add_domain_error(form, error, field="credit_code" if error.code == "company.not_found" else None)
        else:
            messages.success(request, _("The licence is entered in the registry."))
            return redirect("registries:licence", issued.number)
    return render(request, "registries/licence_issue.html", {"form": form})


@staff_required
@require_http_methods(["GET", "POST"])
def verification_request(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    record = selectors.verification_request(user=user, pk=pk)
    url = reverse("registries:verification_request", args=[record.pk])
    actions: dict[str, Action] = {
        "accept": (
            forms.Form,
            lambda data: practitioner_services.verification_request_accept(request=record.pk, staff=user),
            _("The request is accepted; answer within 2 working days."),
        ),
        "answer": (
            registry_forms.VerificationAnswerForm,
            lambda data: practitioner_services.verification_request_answer(
                request=record.pk, staff=user, answer=data["answer"], note=data["note"]
            ),
            _("The answer is recorded and sent to the ministry index."),
        ),
    }
    may_act = allowed(user, selectors.MAINTAIN, region_code=record.region_code)
    bound, done = _handle(request, actions, may_act=may_act, done_url=url)
    if done is not None:
        return done
    return render(
        request,
        "registries/verification_request.html",
        {
            "record": record,
            "applicant": mask_name(record.applicant.real_name or ""),
            "forms": bound,
            "may_act": may_act,
        },
    )
