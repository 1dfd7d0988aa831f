"""The legal representative's signed confirmation of a contact-person change, for the parties of
an application of the company (issue #17 item 8): same visibility as the case itself."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from yunzheng.core.auth import current_user
from yunzheng.core.errors import NotFound
from yunzheng.core.http import file_response
from yunzheng.core.private_files import read_private
from yunzheng.licensing import selectors
from yunzheng.licensing.models import REVIEW_DEPARTMENTS
from yunzheng.licensing.views import signed_in


@signed_in
def contact_letter(request: HttpRequest, pk: int, designation_id: int) -> HttpResponse:
    try:
        application, role = selectors.application_for_user(user=current_user(request), application_id=pk)
    except NotFound:
        raise Http404 from None
    if role in REVIEW_DEPARTMENTS:  # they see the materials under review, not the company's contact
        raise Http404
    designation = selectors.contact_designation(
        company_id=application.company_id, designation_id=designation_id
    )
    if designation is None:
        raise Http404
    return file_response(
        read_private(designation.letter_stored_name),
        content_type=designation.letter_content_type,
        filename=designation.letter_original_name,
    )
