"""The same feed as a JSON API (batches, per-record errors, region scope) and as a staff upload
page with a downloadable template; uploads are checked by content."""

from __future__ import annotations

import io

import openpyxl
import pytest

from yunzheng.accounts.models import StaffProfile
from yunzheng.elicense.tests.conftest import make_staff, resident_id, staff_client
from yunzheng.practitioners.models import QualificationCertificate
from yunzheng.practitioners.registry_import import COLUMNS
from yunzheng.registries.tests.test_import import cert_row

pytestmark = pytest.mark.django_db
URL = "/api/v1/registries/imports/qualification-certificates"


def test_api_batch_with_per_record_errors_and_region_scope() -> None:
    city = make_staff("330100", level=StaffProfile.Level.CITY)
    client = staff_client(city)
    rows = [
        cert_row("A-1", resident_id("330102")),
        cert_row("A-2", resident_id("330102"), region_code="120101"),  # another province
        cert_row("A-3", "123"),
    ]
    answer = client.post(URL, {"rows": rows}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["rows"], body["created"]) == (3, 1)
    assert {(r["row"], r["field"], r["code"]) for r in body["rejected"]} == {
        (2, "region_code", "region.out_of_scope"),
        (3, "id_number", "id_number.format"),
    }
    again = client.post(URL, {"rows": rows[:1]}, content_type="application/json").json()
    assert again["unchanged"] == 1
    template = client.get(URL + "/template").json()
    assert template["columns"] == list(COLUMNS)


def test_api_refuses_non_transport_staff_and_unknown_kinds() -> None:
    police = make_staff("330000")
    StaffProfile.objects.filter(user=police).update(department=StaffProfile.Department.PUBLIC_SECURITY)
    denied = staff_client(police).post(URL, {"rows": []}, content_type="application/json")
    assert denied.status_code == 403
    transport = staff_client(make_staff("330000"))
    unknown = transport.post(
        "/api/v1/registries/imports/bogus", {"rows": []}, content_type="application/json"
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "import.kind_unknown"


def test_upload_page_xlsx_report_and_template() -> None:
    client = staff_client(make_staff("330000"))
    page = client.get("/registries/import/")
    assert page.status_code == 200
    template = client.get("/registries/import/qualification-certificates/template.csv")
    assert template.content.decode("utf-8-sig").strip() == ",".join(COLUMNS)

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    for row in [
        cert_row("P-1", resident_id("330102")),
        cert_row("P-2", resident_id("330102"), status="gone"),
    ]:
        sheet.append([row[c] for c in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = io.BytesIO(buffer.getvalue())
    upload.name = "registry.csv"  # a misleading name: the content decides
    answer = client.post("/registries/import/", {"kind": "qualification-certificates", "file": upload})
    html = answer.content.decode()
    assert 'data-testid="report-created">1<' in html
    assert 'data-row="2"' in html
    assert QualificationCertificate.objects.filter(number="P-1").exists()

    junk = io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    junk.name = "registry.csv"
    answer = client.post("/registries/import/", {"kind": "qualification-certificates", "file": junk})
    assert answer.status_code == 200
    assert 'data-testid="import-report"' not in answer.content.decode()
