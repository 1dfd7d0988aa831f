"""Walk scenarios of the One-Network Office and the registries (see permission_walk.py)."""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from yunzheng.accounts.models import RegistryCredential
from yunzheng.licensing.models import OperatingLicence
from yunzheng.licensing.tests.factories import company_with_contact
from yunzheng.practitioners.models import BusinessContact, CaseState, QualificationCertificate
from yunzheng.practitioners.registry_import import COLUMNS
from yunzheng.practitioners.tests.conftest import id_number, make_verified_user, register, submitted
from yunzheng.registries.tests.test_import import cert_row
from yunzheng.web.tests.permission_walk import Account, Env, Outcome, Pool, Scenario

_serial = itertools.count(1)


def _certificate(_key: str = "") -> QualificationCertificate:
    n = next(_serial)
    return register(id_number(f"33010619850612{n % 1000:03d}"), number=f"33010020159{n:05d}", region="330100")


class OfficeCaseHandle(Scenario):
    action = "office.case.handle"
    item_region = "330100"  # the certificate's issuing city
    page = "POST /office/staff/cases/<id>/ action=accept"
    no_api = "the office API serves applicants; staff handle cases on the case page only"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        env.settings.PRIVATE_MEDIA_ROOT = env.tmp_path / "private"
        self.cases = Pool(self._case)

    def _case(self, _key: str) -> Any:
        n = next(_serial)
        number = id_number(f"33010619850612{n % 1000:03d}")
        driver = make_verified_user(f"136{n:08d}", name="张伟", id_no=number)
        certificate = register(number, number=f"33010020158{n:05d}", region="330100")
        return submitted(driver, certificate)

    def try_page(self, account: Account) -> Outcome:
        case = self.cases.get()
        response = account.client.post(f"/office/staff/cases/{case.pk}/", {"action": "accept"})
        case.refresh_from_db()
        changed = case.state != CaseState.SUBMITTED
        if changed:
            self.cases.spend()
        return Outcome(response, changed)


class OfficeContactMaintain(Scenario):
    action = "office.contact.maintain"
    item_region = "330000"  # the province whose managers drivers see
    page = "POST /office/staff/contacts/ op=add"
    no_api = "drivers read 联系我们 on the pages; staff keep it on its staff page only"

    def try_page(self, account: Account) -> Outcome:
        name = f"王经理{next(_serial)}"
        response = account.client.post(
            "/office/staff/contacts/",
            {
                "op": "add",
                "province_code": "330000",
                "name": name,
                "phone": "0571-87001234",
                "unit": "",
                "hours": "",
            },
        )
        return Outcome(response, BusinessContact.objects.filter(name=name).exists())


class RegistryView(Scenario):
    action = "registry.view"
    item_region = "330100"
    page = "GET /registries/registers/certificates/<number>/"
    no_api = "the registries are browsed on the register pages; the API only feeds them (imports)"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.certificate = _certificate()

    def try_page(self, account: Account) -> Outcome:
        response = account.client.get(f"/registries/registers/certificates/{self.certificate.number}/")
        shown = response.status_code == 200 and self.certificate.number in response.content.decode()
        return Outcome(response, shown)


class RegistryMaintain(Scenario):
    action = "registry.maintain"
    item_region = "330100"
    api = "POST /api/v1/office/registry/certificates/<number>/status status=suspended"
    page = "POST /registries/registers/certificates/<number>/ form=decision"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.certificates = Pool(_certificate)

    def _outcome(self, certificate: QualificationCertificate, response: Any) -> Outcome:
        certificate.refresh_from_db()
        changed = certificate.status == "suspended"
        if changed:
            self.certificates.spend()
        return Outcome(response, changed)

    def try_api(self, account: Account) -> Outcome:
        certificate = self.certificates.get()
        response = account.client.post(
            f"/api/v1/office/registry/certificates/{certificate.number}/status",
            {"status": "suspended", "reason": "核查"},
            content_type="application/json",
        )
        return self._outcome(certificate, response)

    def try_page(self, account: Account) -> Outcome:
        certificate = self.certificates.get()
        response = account.client.post(
            f"/registries/registers/certificates/{certificate.number}/",
            {"form": "decision", "decision-status": "suspended", "decision-reason": "核查"},
        )
        return self._outcome(certificate, response)


class OperatingLicenceMaintain(Scenario):
    action = "registry.operating_licence.maintain"
    item_region = "330100"
    api = "POST /api/v1/registries/licences (enter a licence)"
    page = "POST /registries/registers/licences/new/ (enter a licence)"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.company, _contact = company_with_contact()

    def _licence(self) -> dict[str, str]:
        return {
            "credit_code": self.company.credit_code,
            "kind": "national",
            "number": f"浙杭网约{next(_serial):06d}",
            "scope": "网约车客运",
            "area": "杭州市",
            "city_code": "330100",
            "valid_from": "2025-01-01",
            "valid_until": "2028-12-31",
        }

    def try_api(self, account: Account) -> Outcome:
        licence = self._licence()
        response = account.client.post(
            "/api/v1/registries/licences", licence, content_type="application/json"
        )
        return Outcome(response, OperatingLicence.objects.filter(number=licence["number"]).exists())

    def try_page(self, account: Account) -> Outcome:
        licence = self._licence()
        response = account.client.post("/registries/registers/licences/new/", licence)
        return Outcome(response, OperatingLicence.objects.filter(number=licence["number"]).exists())


def _rows(number: str) -> list[dict[str, str]]:
    n = next(_serial)
    return [cert_row(number, id_number(f"33010619850612{(n + 500) % 1000:03d}"))]


class RegistryImport(Scenario):
    action = "registry.import"
    item_region = "330100"  # the rows' region
    api = "POST /api/v1/registries/imports/qualification-certificates"
    page = "POST /registries/import/ (a CSV file)"

    def try_api(self, account: Account) -> Outcome:
        number = f"IMP-A-{next(_serial)}"
        response = account.client.post(
            "/api/v1/registries/imports/qualification-certificates",
            {"rows": _rows(number)},
            content_type="application/json",
        )
        return Outcome(response, QualificationCertificate.objects.filter(number=number).exists())

    def try_page(self, account: Account) -> Outcome:
        number = f"IMP-P-{next(_serial)}"
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(_rows(number))
        upload = SimpleUploadedFile(
            "registry.csv", buffer.getvalue().encode("utf-8"), content_type="text/csv"
        )
        response = account.client.post(
            "/registries/import/", {"kind": "qualification-certificates", "file": upload}
        )
        return Outcome(response, QualificationCertificate.objects.filter(number=number).exists())


class RegistryCredentialManage(Scenario):
    action = "registry.credential.manage"
    item_region = "330000"  # the provincial system's region
    api = "POST /api/v1/registries/credentials"
    page = "POST /registries/credentials/ action=issue"

    def try_api(self, account: Account) -> Outcome:
        name = f"浙江省运政系统{next(_serial)}"
        response = account.client.post(
            "/api/v1/registries/credentials",
            {"name": name, "region_code": "330000"},
            content_type="application/json",
        )
        return Outcome(response, RegistryCredential.objects.filter(name=name).exists())

    def try_page(self, account: Account) -> Outcome:
        name = f"浙江省运政系统{next(_serial)}"
        response = account.client.post(
            "/registries/credentials/", {"action": "issue", "name": name, "region_code": "330000"}
        )
        return Outcome(response, RegistryCredential.objects.filter(name=name).exists())
