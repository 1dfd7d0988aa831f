"""Pages of the determination document and of the local licence path (issue #17 items 4 and 7):
the determination's PDF, and the second city's review of a local licence application."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yunzheng.core.auth import current_user
from yunzheng.core.errors import DomainError, NotFound
from yunzheng.core.forms import message_domain_error
from yunzheng.core.http import file_response
from yunzheng.licensing import selectors, services
from yunzheng.licensing.determination_forms import LocalReviewForm
from yunzheng.licensing.determination_pdf import determination_pdf
from yunzheng.licensing.views import signed_in


def _visible(user: object, application_ids: list[int]) -> bool:
    """Whoever may see the national case, or a local case that refers to the determination."""
    for application_id in application_ids:
        try:
            selectors.application_for_user(user=user, application_id=application_id)
        except NotFound:
            continue
        return True
    return False


@signed_in
def determination_file(request: HttpRequest, pk: int) -> HttpResponse:
    determination, cases = selectors.determination_with_cases(pk=pk)
    if determination is None or not _visible(current_user(request), cases):
        raise Http404
    return file_response(
        determination_pdf(determination),
        content_type="application/pdf",
        filename=f"determination-{determination.number}.pdf",
    )


@signed_in
@require_POST
def local_review(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    try:
        application, _role = selectors.application_for_user(user=user, application_id=pk)
    except NotFound:
        raise Http404 from None
    form = LocalReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("licensing:application", pk=pk)
    try:
        services.local_review(
            application=application,
            user=user,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        message_domain_error(request, error)
    else:
        messages.success(request, _("The local review was recorded."))
    return redirect("licensing:application", pk=pk)


__all__ = ["determination_file", "local_review"]
