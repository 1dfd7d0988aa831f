"""Staff upload page: a file (CSV or XLSX), the same report as the command and the API."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from yunzheng.core.auth import current_user, staff_required
from yunzheng.core.errors import DomainError
from yunzheng.core.forms import add_domain_error
from yunzheng.core.http import file_response
from yunzheng.registries.access import import_region_prefix
from yunzheng.registries.importing import (
    KIND_NAMES,
    MAX_FILE_BYTES,
    import_kind,
    registry_import,
    template_csv,
)

KIND_LABELS = {
    "qualification-certificates": gettext_lazy("Qualification certificates"),
    "vehicles": gettext_lazy("Vehicles and road transport certificates"),
    "violations": gettext_lazy("Traffic violations"),
    "annual-inspections": gettext_lazy("Annual vehicle inspections"),
    "credit-results": gettext_lazy("Credit assessment results"),
}


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Registry"), choices=[(k, KIND_LABELS[k]) for k in KIND_NAMES]
    )
    file = forms.FileField(label=gettext_lazy("File (.csv UTF-8 or .xlsx)"))
    dry_run = forms.BooleanField(label=gettext_lazy("Check only, do not save"), required=False)


def _require_importer(request: HttpRequest) -> None:
    try:
        import_region_prefix(current_user(request))
    except DomainError:
        raise DjangoPermissionDenied from None


@staff_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    _require_importer(request)  # the page is 403 for staff who may not import (the service checks too)
    form = UploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        if upload_file.size > MAX_FILE_BYTES:
            form.add_error("file", gettext_lazy("The file is larger than 64 MB."))
        else:
            try:
                report = registry_import(
                    kind=form.cleaned_data["kind"],
                    content=upload_file.read(),
                    user=current_user(request),
                    dry_run=form.cleaned_data["dry_run"],
                ).as_dict()
            except DomainError as error:
                add_domain_error(form, error, field="file")
    return render(
        request,
        "registries/upload.html",
        {"form": form, "report": report, "kinds": [(k, KIND_LABELS[k]) for k in KIND_NAMES]},
    )


@staff_required
@require_GET
def template(request: HttpRequest, kind: str) -> HttpResponse:
    _require_importer(request)
    try:
        chosen = import_kind(kind)
    except DomainError:
        raise DjangoPermissionDenied from None
    return file_response(
        template_csv(chosen), content_type="text/csv; charset=utf-8", filename=f"{chosen.name}-template.csv"
    )
