"""Walk scenarios of the accounts, elicense, supervision and calendar actions (see permission_walk.py).
For a read ("see ..."), `changed` means the item was shown in full and the viewing was audited."""

from __future__ import annotations

import itertools
from typing import Any

from yunzheng.accounts import services as accounts_services
from yunzheng.accounts.models import RealNameVerification
from yunzheng.accounts.ocr import OcrReading
from yunzheng.accounts.services import realname
from yunzheng.accounts.tests.conftest import FAKE_OCR_READING
from yunzheng.accounts.tests.factories import id_number, login, png_bytes
from yunzheng.core.audit import AuditEntry
from yunzheng.core.models import StatutoryCalendarYear
from yunzheng.elicense import services as elicense_services
from yunzheng.elicense.models import ElectronicLicence, SigningKey
from yunzheng.elicense.models import LicenceStatus as State
from yunzheng.elicense.tests.conftest import SYSTEM, make_verified_user, sync_licence
from yunzheng.supervision.models import ComplianceRun
from yunzheng.web.tests.permission_walk import Account, Env, Outcome, Pool, Scenario

_serial = itertools.count(1)


class RealNameReview(Scenario):
    action = "realname.review"
    page = "POST /accounts/staff/real-name/<id>/ decision=approve"
    no_api = "the API serves applicants their own verification; staff review on the page only"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.reading = {"fields": FAKE_OCR_READING}
        # rapidocr stands aside (run for real in accounts/tests/test_ocr.py): every photo reads
        # as the submission below.
        env.monkeypatch.setattr(realname, "read_id_card_front", self._read)
        env.settings.PRIVATE_MEDIA_ROOT = env.tmp_path / "private"
        self.pending = Pool(self._pending)

    def _read(self, image: bytes) -> OcrReading:
        return OcrReading(fields=self.reading["fields"], line_count=11, seconds=0.0)

    def _pending(self, _key: str) -> RealNameVerification:
        n = next(_serial)
        number = id_number(region="330106", sequence=f"{(2 * n + 1) % 1000:03d}")  # odd: a man
        self.reading["fields"] = FAKE_OCR_READING.__class__(
            **{**FAKE_OCR_READING.__dict__, "id_number": number}
        )
        user = login(f"137{n:08d}")
        draft = accounts_services.realname_photo_upload(user=user, upload=png_bytes())
        return accounts_services.realname_verification_submit(
            user=user,
            verification_id=draft.pk,
            submission=accounts_services.RealNameSubmission(
                name="李四",
                sex="M",
                ethnicity="汉",
                birth_date=FAKE_OCR_READING.birth_date,
                address="浙江省杭州市西湖区文三路1号",
                id_number=number,
            ),
        )

    def try_page(self, account: Account) -> Outcome:
        verification = self.pending.get()
        response = account.client.post(
            f"/accounts/staff/real-name/{verification.pk}/", {"decision": "approve"}
        )
        verification.refresh_from_db()
        changed = verification.status != RealNameVerification.Status.PENDING
        if changed:
            self.pending.spend()
        return Outcome(response, changed)


class PermissionsView(Scenario):
    action = "permissions.view"
    item_region = None
    page = "GET /accounts/staff/permissions/"
    no_api = "the table is published as docs/permissions.md; no endpoint serves it"

    def try_page(self, account: Account) -> Outcome:
        response = account.client.get("/accounts/staff/permissions/")
        shown = (
            response.status_code == 200
            and 'data-testid="permission-alarm.handle"' in response.content.decode()
        )
        return Outcome(response, shown)


def _licences(env: Env) -> Pool:
    env.settings.PRIVATE_MEDIA_ROOT = env.tmp_path / "private"
    if not SigningKey.objects.filter(province="330000", status=SigningKey.Status.ACTIVE).exists():
        elicense_services.signing_key_create(province="330000", actor=SYSTEM)
    holder = make_verified_user(region="330106")
    return Pool(lambda _key: sync_licence(holder, source_id=f"walk-{next(_serial)}", region="330100"))


class LicenceStatus(Scenario):
    action = "elicense.licence.status"
    item_region = "330100"  # the issuing authority's region
    api = "POST /api/v1/elicense/staff/licences/<lid>/suspend"
    page = "POST /elicense/staff/licences/<lid>/ action=suspend"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.licences = _licences(env)

    def _outcome(self, licence: ElectronicLicence, response: Any) -> Outcome:
        licence.refresh_from_db()
        changed = licence.status == State.SUSPENDED
        if changed:
            self.licences.spend()
        return Outcome(response, changed)

    def try_api(self, account: Account) -> Outcome:
        licence = self.licences.get()
        response = account.client.post(
            f"/api/v1/elicense/staff/licences/{licence.lid}/suspend",
            {"reason": "核查"},
            content_type="application/json",
        )
        return self._outcome(licence, response)

    def try_page(self, account: Account) -> Outcome:
        licence = self.licences.get()
        response = account.client.post(
            f"/elicense/staff/licences/{licence.lid}/", {"action": "suspend", "reason": "核查"}
        )
        return self._outcome(licence, response)


class LicenceView(Scenario):
    action = "elicense.licence.view"
    item_region = "330100"
    page = "GET /elicense/staff/licences/<lid>/"
    no_api = "the licence API serves holders; staff see licences in full on the desk page only"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.licence = _licences(env).get()

    def try_page(self, account: Account) -> Outcome:
        before = AuditEntry.objects.filter(action="elicense.licence.staff_view").count()
        response = account.client.get(f"/elicense/staff/licences/{self.licence.lid}/")
        audited = AuditEntry.objects.filter(action="elicense.licence.staff_view").count() > before
        shown = response.status_code == 200 and self.licence.holder_name in response.content.decode()
        return Outcome(response, shown and audited)


class SupervisionCompute(Scenario):
    action = "supervision.compute"
    item_region = None  # the staff member's own region
    api = "POST /api/v1/supervision/compute"
    page = "POST /supervision/compute/"

    def _outcome(self, response: Any, before: int) -> Outcome:
        return Outcome(response, ComplianceRun.objects.count() > before)

    def try_api(self, account: Account) -> Outcome:
        before = ComplianceRun.objects.count()
        response = account.client.post(
            "/api/v1/supervision/compute", {"month": "2026-10"}, content_type="application/json"
        )
        return self._outcome(response, before)

    def try_page(self, account: Account) -> Outcome:
        before = ComplianceRun.objects.count()
        return self._outcome(account.client.post("/supervision/compute/", {"month": "2026-10"}), before)


class CalendarMaintain(Scenario):
    action = "calendar.maintain"
    item_region = None
    api = "POST /api/v1/platform/calendar/years"
    page = "POST /calendar/enter/ save"

    years = itertools.count(2040)

    def try_api(self, account: Account) -> Outcome:
        year = next(self.years)
        response = account.client.post(
            "/api/v1/platform/calendar/years",
            {
                "year": year,
                "notice": f"国务院办公厅关于{year}年部分节假日安排的通知",
                "holidays": [{"start": f"{year}-01-01", "end": f"{year}-01-01", "name": "元旦"}],
                "workdays": [],
            },
            content_type="application/json",
        )
        return Outcome(response, StatutoryCalendarYear.objects.filter(year=year).exists())

    def try_page(self, account: Account) -> Outcome:
        year = next(self.years)
        response = account.client.post(
            "/calendar/enter/",
            {
                "year": year,
                "notice": f"国务院办公厅关于{year}年部分节假日安排的通知",
                "holidays": f"{year}-01-01 元旦",
                "workdays": "",
                "save": "1",
            },
        )
        return Outcome(response, StatutoryCalendarYear.objects.filter(year=year).exists())
