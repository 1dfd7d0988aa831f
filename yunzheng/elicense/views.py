"""HTML pages: public verification, holders' licences and share codes, traffic-pass applicants,
and the staff queue and consistency report. Like api.py: validate, call one service or selector,
render. Phone-sized, Chinese by default."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yunzheng.accounts.auth import client_ip
from yunzheng.accounts.guards import real_name_required
from yunzheng.accounts.models import User
from yunzheng.core.audit import Actor
from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from yunzheng.core.forms import (
    PostedAction,
    add_domain_error,
    message_domain_error,
    posted_action,
)
from yunzheng.core.http import file_response
from yunzheng.elicense import rendering, selectors, services
from yunzheng.elicense.consistency import KINDS, sync_check_run
from yunzheng.elicense.models import (
    ElectronicLicence,
    TrafficPassApplication,
    TrafficPassType,
    VehicleTask,
    VerificationAttempt,
)
from yunzheng.elicense.qr_payload import ESSENTIAL_KEYS
from yunzheng.elicense.rendering import public_base_url
from yunzheng.elicense.traffic_pass_types import pass_types_for_region, reviewing_authority
from yunzheng.elicense.traffic_passes import (
    PassRequest,
    pass_region,
    traffic_pass_apply,
    traffic_pass_approve,
    traffic_pass_data_review,
    traffic_pass_material_add,
    traffic_pass_material_content,
    traffic_pass_reject,
    traffic_pass_revoke,
    traffic_pass_withdraw,
)
from yunzheng.elicense.verification_texts import result_label, result_message


def _not_found(error: NotFound) -> Http404:
    return Http404(error.message)


def _essential_labels() -> dict[str, str]:
    return {
        "holder": _("Holder"),
        "certificate_number": pgettext("elicense", "Certificate number"),
        "plate": _("Plate number"),
        "plate_colour": _("Plate colour"),
        "pass_type": _("Pass type"),
        "sections": _("Permitted road sections"),
        "times": _("Permitted times"),
        "categories": _("Qualification categories"),
        "grade": _("Credit grade"),
        "scope": _("Business scope"),
    }


# --------------------------------------------------------------------------------------------
# Public verification
# --------------------------------------------------------------------------------------------


class VerifyForm(forms.Form):
    payload = forms.CharField(
        label=gettext_lazy("Scanned code"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
    )


def _verification_page(request: HttpRequest, text: str, *, form: VerifyForm | None = None) -> HttpResponse:
    try:
        outcome = services.verification_verify(
            text=text, client_ip=client_ip(request), channel=VerificationAttempt.Channel.PAGE
        )
    except RateLimited as limited:
        response = render(
            request,
            "elicense/verify.html",
            {"form": form or VerifyForm(), "rate_limited": limited.message},
            status=429,
        )
        response["Retry-After"] = str(limited.retry_after_seconds)
        return response
    essentials = []
    if outcome.claims is not None:
        labels = _essential_labels()
        for key, value in outcome.claims.ess.items():
            name = ESSENTIAL_KEYS.get(key, key)
            essentials.append(
                (labels.get(name, name), "；".join(value) if isinstance(value, list) else value)
            )
    context = {
        "form": form or VerifyForm(),
        "outcome": outcome,
        "result_label": result_label(outcome.result),
        "message": result_message(outcome.result, outcome.reason_code),
        "essentials": essentials,
        "type_label": (
            ElectronicLicence(licence_type=outcome.claims.licence_type).get_licence_type_display()
            if outcome.claims
            else ""
        ),
        "checked_at": timezone.now(),
    }
    return render(request, "elicense/verify.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = VerifyForm(request.POST)
        if form.is_valid():
            return _verification_page(request, form.cleaned_data["payload"], form=form)
        return render(request, "elicense/verify.html", {"form": form})
    return render(request, "elicense/verify.html", {"form": VerifyForm()})


@never_cache
def verify_link(request: HttpRequest, payload: str) -> HttpResponse:
    """The link in the QR code: a phone camera opens it and sees the live answer at once."""
    return _verification_page(request, payload)


class ShareRedeemForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Share code"), max_length=40)


@never_cache
@require_http_methods(["GET", "POST"])
def share_redeem_page(request: HttpRequest, code: str = "") -> HttpResponse:
    """GET only asks for confirmation (link previews and prefetchers must not burn the code);
    the POST redeems it and shows the licence in full, once."""
    form = ShareRedeemForm(request.POST or None, initial={"code": code})
    if request.method == "POST" and form.is_valid():
        try:
            share = services.share_code_redeem(
                code=form.cleaned_data["code"],
                client_ip=client_ip(request),
                channel=VerificationAttempt.Channel.SHARE,
            )
        except (NotFound, RateLimited) as error:
            add_domain_error(form, error, field="code")
        else:
            rows = rendering.licence_rows(share.licence, full=True, full_id=True)
            response = render(request, "elicense/share_view.html", {"share": share, "rows": rows})
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "elicense/share_redeem.html", {"form": form, "code": code})


# --------------------------------------------------------------------------------------------
# Holders
# --------------------------------------------------------------------------------------------


@login_required
def my_licences(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    return render(
        request,
        "elicense/my_licences.html",
        {
            "licences": selectors.licences_for_user(user=user),
            "applications": selectors.applications_for_user(user=user)[:5],
        },
    )


class ShareCreateForm(forms.Form):
    recipient_name = forms.CharField(
        label=gettext_lazy("Share with (name of the person or organisation)"), max_length=100
    )


@never_cache
@login_required
def licence_page(request: HttpRequest, lid: str) -> HttpResponse:
    user = current_user(request)
    try:
        licence = selectors.licence_for_holder(user=user, lid=lid)
    except NotFound as error:
        raise _not_found(error) from None
    services.licence_record_activation(licence=licence, user=user)
    qr_uri, qr_problem, signed = "", "", None
    try:
        signed = services.licence_sign(licence=licence)
        qr_uri = rendering.qr_data_uri(signed.qr_text(public_base_url(request)), scale=8)
    except DomainError as error:
        qr_problem = error.message
    now = timezone.now()
    shares = [
        (share, selectors.share_code_state(share, now=now))
        for share in selectors.share_codes_for_licence(licence=licence)
    ]
    return render(
        request,
        "elicense/licence.html",
        {
            "licence": licence,
            "rows": rendering.licence_rows(licence, full=True),
            "qr_uri": qr_uri,
            "qr_problem": qr_problem,
            "signed": signed,
            "shares": shares,
            "share_form": ShareCreateForm(),
            "events": licence.events.all(),
        },
    )


@require_POST
@login_required
def share_create(request: HttpRequest, lid: str) -> HttpResponse:
    user = current_user(request)
    try:
        licence = selectors.licence_for_holder(user=user, lid=lid)
    except NotFound as error:
        raise _not_found(error) from None
    form = ShareCreateForm(request.POST)
    if form.is_valid():
        try:
            issued = services.share_code_create(
                licence=licence, user=user, recipient_name=form.cleaned_data["recipient_name"]
            )
        except DomainError as error:
            message_domain_error(request, error)
        else:
            messages.success(
                request,
                _("Share code for %(name)s: %(code)s — valid until %(time)s, usable once.")
                % {
                    "name": issued.share.recipient_name,
                    "code": issued.display,
                    "time": timezone.localtime(issued.share.expires_at).strftime("%H:%M"),
                },
            )
    else:
        messages.error(request, _("Name the person or organisation you share with."))
    return redirect("elicense:licence", lid=licence.lid)


@never_cache
@login_required
def licence_download(request: HttpRequest, lid: str, kind: str) -> HttpResponse:
    user = current_user(request)
    try:
        licence = selectors.licence_for_holder(user=user, lid=lid)
        signed = services.licence_sign(licence=licence)
    except NotFound as error:
        raise _not_found(error) from None
    except DomainError as error:
        message_domain_error(request, error)
        return redirect("elicense:licence", lid=lid)
    services.licence_record_activation(licence=licence, user=user)
    return rendering.licence_download(licence, signed, base_url=public_base_url(request), kind=kind)


# --------------------------------------------------------------------------------------------
# Traffic passes: applicants
# --------------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); each is checked by content in
    the service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".png,.jpg,.jpeg,.pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class PassTypeSelect(forms.Select):
    """Each option carries its type's defaults (``data-validity-days``, ``data-time-windows``,
    ``data-vehicle-task``, ``data-decision-days``); static/elicense/pass_apply.js applies them
    when the type changes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.type_defaults: dict[str, dict[str, str]] = {}

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        option["attrs"].update(self.type_defaults.get(str(option["value"]), {}))
        return option


def pass_type_defaults(pass_type: TrafficPassType) -> dict[str, str]:
    return {
        "data-validity-days": str(pass_type.max_validity_days),
        "data-decision-days": str(pass_type.decision_working_days),
        "data-time-windows": pass_type.default_time_windows,
        "data-vehicle-task": pass_type.default_vehicle_task,
    }


class PassApplyForm(forms.Form):
    plate_number = forms.CharField(label=gettext_lazy("Plate number"), max_length=20)
    pass_type = forms.ChoiceField(label=gettext_lazy("Pass type"), widget=PassTypeSelect)
    vehicle_task = forms.ChoiceField(
        label=gettext_lazy("Task the vehicle performs"), choices=[("", "—"), *VehicleTask.choices]
    )
    no_alternative_route = forms.BooleanField(
        label=gettext_lazy("I declare that no other route avoids the restricted road sections"),
        required=False,
    )
    road_sections = forms.CharField(
        label=gettext_lazy("Permitted road sections (one per line)"), widget=forms.Textarea(attrs={"rows": 3})
    )
    time_windows = forms.CharField(label=gettext_lazy("Permitted times, e.g. 22:00-06:00"), max_length=100)
    valid_from = forms.DateField(
        label=gettext_lazy("Valid from"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    materials = MultipleFileField(
        label=gettext_lazy("Supporting materials (PNG, JPEG or PDF)"), required=False
    )
    company = forms.TypedChoiceField(
        label=gettext_lazy("Apply as"), coerce=int, required=False, empty_value=None
    )

    def __init__(
        self,
        *args: Any,
        companies: list[tuple[int, str]],
        pass_types: list[TrafficPassType],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        type_field = cast(forms.ChoiceField, self.fields["pass_type"])
        type_field.choices = [(t.code, t.name) for t in pass_types]
        cast(PassTypeSelect, type_field.widget).type_defaults = {
            t.code: pass_type_defaults(t) for t in pass_types
        }
        field = cast(forms.TypedChoiceField, self.fields["company"])
        field.choices = [("", _("Myself (individual)")), *companies]
        if not companies:
            field.widget = forms.HiddenInput()


@real_name_required
def pass_apply(request: HttpRequest) -> HttpResponse:
    from yunzheng.accounts.selectors import companies_for_user, company_for_member

    user = current_user(request)
    companies = [(c.pk, c.name) for c in companies_for_user(user=user)]
    today = today_in_china()
    region = pass_region()
    pass_types = list(pass_types_for_region(region))
    # The defaults follow the pass type (?pass_type= chooses it without JavaScript): its longest
    # validity from today, the time windows and the vehicle task it proposes.
    chosen = next((t for t in pass_types if t.code == request.GET.get("pass_type")), None)
    chosen = chosen or (pass_types[0] if pass_types else None)
    initial: dict[str, Any] = {"valid_from": today}
    if chosen is not None:
        initial.update(
            pass_type=chosen.code,
            valid_until=today + dt.timedelta(days=chosen.max_validity_days - 1),
            time_windows=chosen.default_time_windows,
            vehicle_task=chosen.default_vehicle_task,
        )
    form = PassApplyForm(
        request.POST or None,
        request.FILES or None,
        companies=companies,
        pass_types=pass_types,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            company = company_for_member(user=user, company_id=data["company"]) if data["company"] else None
            application = traffic_pass_apply(
                user=user,
                company=company,
                request=PassRequest(
                    plate_number=data["plate_number"],
                    pass_type=data["pass_type"],
                    road_sections=data["road_sections"],
                    time_windows=data["time_windows"],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                    vehicle_task=data["vehicle_task"],
                    no_alternative_route=data["no_alternative_route"],
                ),
                materials=[(upload.name, upload) for upload in data["materials"]],
            )
        except (ValidationFailed, DomainError) as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Application %(ref)s submitted. The traffic police review the data first; the "
                    "decision follows within the working days counted from that review."
                )
                % {"ref": application.reference},
            )
            return redirect("elicense:pass", application_id=application.pk)
    return render(
        request,
        "elicense/pass_apply.html",
        {"form": form, "chosen_type": chosen, "authority": reviewing_authority(region)},
    )


@login_required
def pass_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "elicense/pass_list.html",
        {"applications": selectors.applications_for_user(user=current_user(request))},
    )


class ReasonForm(forms.Form):
    """A posted decision and its reason (the services decide whether a reason is required)."""

    reason = forms.CharField(required=False, strip=False)


class PassMaterialForm(forms.Form):
    title = forms.CharField(required=False, strip=False)
    # An empty file is the service's to refuse (core.documents), with its own code.
    file = forms.FileField(allow_empty_file=True, error_messages={"required": gettext_lazy("Choose a file.")})


HOLDER_PASS_ACTIONS: dict[str, PostedAction] = {
    "withdraw": PostedAction(
        ReasonForm,
        lambda application, user, data: traffic_pass_withdraw(
            application=application, user=user, reason=data["reason"]
        ),
        code="reason.invalid",
    ),
    "material": PostedAction(
        PassMaterialForm,
        lambda application, user, data: traffic_pass_material_add(
            application=application, user=user, title=data["title"], upload=data["file"]
        ),
        gettext_lazy("Material added."),
        code="upload.missing",
    ),
}
"""The applicant's posted actions on their pass application (``action=``)."""


@login_required
def pass_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    user = current_user(request)
    try:
        application = selectors.application_for_user(user=user, application_id=application_id)
    except NotFound as error:
        raise _not_found(error) from None
    if request.method == "POST":
        try:
            done = posted_action(HOLDER_PASS_ACTIONS, request.POST).perform(
                request.POST, application, user, files=request.FILES
            )
        except DomainError as error:
            message_domain_error(request, error)
        else:
            if done:
                messages.success(request, done)
        return redirect("elicense:pass", application_id=application.pk)
    return render(
        request,
        "elicense/pass_detail.html",
        {
            "application": application,
            "transitions": application.transitions.all(),
            "overdue": selectors.is_overdue(application),
        },
    )


# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


@staff_required
def staff_pass_queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", TrafficPassApplication.Status.SUBMITTED)
    if status not in TrafficPassApplication.Status.values:
        status = ""
    overdue = request.GET.get("overdue") == "1"
    queue = selectors.application_queue(staff_user=current_user(request), status=status, overdue_only=overdue)
    rows = [(a, selectors.is_overdue(a)) for a in queue.select_related("applicant_user")[:200]]
    return render(
        request,
        "elicense/staff_queue.html",
        {
            "rows": rows,
            "status": status,
            "overdue": overdue,
            "statuses": TrafficPassApplication.Status.choices,
        },
    )


def _decision(service: Callable[..., Any]) -> PostedAction:
    """A staff decision on a pass application: a traffic_passes service taking the reason."""
    return PostedAction(
        ReasonForm,
        lambda application, staff, data: service(
            application=application, staff_user=staff, reason=data["reason"]
        ),
        gettext_lazy("Saved."),
        code="reason.invalid",
    )


STAFF_PASS_DECISIONS: dict[str, PostedAction] = {
    "data_review": _decision(traffic_pass_data_review),
    "approve": _decision(traffic_pass_approve),
    "reject": _decision(traffic_pass_reject),
    "revoke": _decision(traffic_pass_revoke),
}
"""The staff pass page's actions (``action=``)."""


@staff_required
def staff_pass_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    staff = current_user(request)
    try:
        application = selectors.application_for_staff(staff_user=staff, application_id=application_id)
    except NotFound as error:
        raise _not_found(error) from None
    if request.method == "POST":
        try:
            done = posted_action(STAFF_PASS_DECISIONS, request.POST).perform(request.POST, application, staff)
        except DomainError as error:
            message_domain_error(request, error)
        else:
            messages.success(request, done)
        return HttpResponseRedirect(reverse("elicense:staff_pass", args=[application.pk]))
    from yunzheng.elicense.vehicles import vehicle_legal_problems

    return render(
        request,
        "elicense/staff_pass.html",
        {
            "application": application,
            "staff_view": True,
            "transitions": application.transitions.all(),
            "overdue": selectors.is_overdue(application),
            "vehicle_problems": [
                message for _code, message in vehicle_legal_problems(plate_number=application.plate_number)
            ],
        },
    )


def _material_response(
    application: TrafficPassApplication, material_id: int, *, viewer: User
) -> HttpResponse:
    material = application.materials.filter(pk=material_id).first()
    if material is None:
        raise Http404
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(
        material.content_type, "bin"
    )
    return file_response(
        traffic_pass_material_content(material=material, viewer=viewer),
        content_type=material.content_type,
        filename=f"{application.reference}-{material.pk}.{extension}",
    )


@login_required
def pass_material(request: HttpRequest, application_id: int, material_id: int) -> HttpResponse:
    try:
        application = selectors.application_for_user(
            user=current_user(request), application_id=application_id
        )
    except NotFound as error:
        raise _not_found(error) from None
    return _material_response(application, material_id, viewer=current_user(request))


@staff_required
def staff_pass_material(request: HttpRequest, application_id: int, material_id: int) -> HttpResponse:
    try:
        application = selectors.application_for_staff(
            staff_user=current_user(request), application_id=application_id
        )
    except NotFound as error:
        raise _not_found(error) from None
    return _material_response(application, material_id, viewer=current_user(request))


@staff_required
def staff_sync_report(request: HttpRequest) -> HttpResponse:
    staff = current_user(request)
    if request.method == "POST":
        sync_check_run(actor=Actor.for_user(staff))
        messages.success(request, _("The consistency check has run."))
        return redirect("elicense:staff_sync")
    report = selectors.latest_sync_report(staff_user=staff)
    kind_labels = {
        "authenticity": _("Authenticity"),
        "completeness": _("Completeness"),
        "validity": _("Validity"),
        "timeliness": _("Timeliness"),
    }
    counts = [(kind_labels[k], report.counts.get(k, 0)) for k in KINDS] if report else []
    mismatches = [(kind_labels.get(m["kind"], m["kind"]), m) for m in report.mismatches] if report else []
    return render(
        request,
        "elicense/staff_sync.html",
        {"report": report, "counts": counts, "mismatches": mismatches},
    )


def _status_change(change: Callable[..., Any]) -> PostedAction:
    """A staff change of a licence's status (suspend, reinstate, revoke), with its reason."""
    return PostedAction(
        ReasonForm,
        lambda licence, staff, data: change(
            licence=licence, actor=Actor.for_user(staff), reason=data["reason"], staff_user=staff
        ),
        gettext_lazy("Saved."),
        code="reason.invalid",
    )


LICENCE_STATUS_ACTIONS: dict[str, PostedAction] = {
    name: _status_change(change) for name, change in services.LICENCE_STATUS_CHANGES.items()
}
"""The staff licence page's actions (``action=``)."""


@staff_required
def staff_licence(request: HttpRequest, lid: str) -> HttpResponse:
    """A licence in full for staff of its region (audited), with revoke / suspend / reinstate."""
    staff = current_user(request)
    try:
        licence = selectors.licence_for_staff(staff_user=staff, lid=lid)
    except NotFound as error:
        raise _not_found(error) from None
    if request.method == "POST":
        try:
            done = posted_action(LICENCE_STATUS_ACTIONS, request.POST).perform(request.POST, licence, staff)
        except DomainError as error:
            message_domain_error(request, error)
        else:
            messages.success(request, done)
        return redirect("elicense:staff_licence", lid=licence.lid)
    services.licence_record_staff_view(licence=licence, staff_user=staff, what="view")
    return render(
        request,
        "elicense/staff_licence.html",
        {
            "licence": licence,
            "rows": rendering.licence_rows(licence, full=True),
            "events": licence.events.all(),
        },
    )


@never_cache
@staff_required
def staff_licence_download(request: HttpRequest, lid: str, kind: str) -> HttpResponse:
    staff = current_user(request)
    try:
        licence = selectors.licence_for_staff(staff_user=staff, lid=lid)
    except NotFound as error:
        raise _not_found(error) from None
    services.licence_record_staff_view(licence=licence, staff_user=staff, what=f"download_{kind}")
    try:
        signed = services.licence_sign(licence=licence)
    except DomainError as error:
        message_domain_error(request, error)
        return redirect("elicense:staff_licence", lid=lid)
    return rendering.licence_download(licence, signed, base_url=public_base_url(request), kind=kind)
