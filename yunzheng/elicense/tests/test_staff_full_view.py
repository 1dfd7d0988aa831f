"""Personal data in full only where the action needs it, and every such view audited (issue #14):
the staff licence page and its downloads show the holder's name and ID number in full, so they
need `elicense.licence.view` (transport and police of the issuing region) and write one audit entry
per view; changing a licence's status (`elicense.licence.status`, personal data masked) answers
with the holder's name masked."""

from __future__ import annotations

from typing import Any

import pytest

from yunzheng.core.crypto import mask_name
from yunzheng.core.models import AuditEntry
from yunzheng.elicense.tests.conftest import make_staff, staff_client, sync_licence

pytestmark = pytest.mark.django_db


def _views(lid: str) -> int:
    return AuditEntry.objects.filter(target_id=lid, action__startswith="elicense.licence.staff_").count()


def test_only_transport_and_police_see_a_licence_in_full_and_each_view_is_audited(
    keys: Any, holder: Any
) -> None:
    licence = sync_licence(holder)  # issued in Hangzhou (330100)
    page = f"/elicense/staff/licences/{licence.lid}/"
    for department in ("tax", "pboc", "communications", "cyberspace"):
        outsider = staff_client(make_staff("330100", level="city", department=department))
        response = outsider.get(page)
        assert response.status_code == 403, department
        assert holder.real_name not in response.content.decode()
        assert outsider.get(f"{page}download.pdf").status_code == 403
    assert _views(licence.lid) == 0

    for department in ("transport", "public_security"):
        client = staff_client(make_staff("330100", level="city", department=department))
        before = _views(licence.lid)
        html = client.get(page).content.decode()
        assert holder.real_name in html
        assert _views(licence.lid) == before + 1
        assert client.get(f"{page}download.pdf")["Content-Type"] == "application/pdf"
        assert _views(licence.lid) == before + 2
        entry = AuditEntry.objects.filter(target_id=licence.lid).latest("id")
        assert entry.action == "elicense.licence.staff_download_pdf"


def test_the_status_api_answers_with_the_holder_masked(keys: Any, holder: Any) -> None:
    licence = sync_licence(holder)
    clerk = staff_client(make_staff("330100", level="city"))
    response = clerk.post(
        f"/api/v1/elicense/staff/licences/{licence.lid}/suspend",
        {"reason": "核查"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["holder"] == mask_name(holder.real_name)
    assert holder.real_name not in response.content.decode()
