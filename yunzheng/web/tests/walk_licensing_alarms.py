"""Walk scenarios of licensing, the access test, traffic passes and alarms (see permission_walk.py).

Licensing application pages answer 404 to accounts that have no part in a case (so ids cannot be
probed): for them that is the page's refusal (`hides_items`)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, ClassVar

from django.utils import timezone

from yunzheng.alarms import services as alarm_services
from yunzheng.alarms.engine import OPEN, Signal
from yunzheng.alarms.live import rule_specs
from yunzheng.alarms.models import Alarm
from yunzheng.conformance.models import Campaign
from yunzheng.elicense import services as elicense_services
from yunzheng.elicense.models import PassType, PlateColour, SigningKey, TrafficPassApplication
from yunzheng.elicense.tests.conftest import SYSTEM, make_staff, make_verified_user, today
from yunzheng.elicense.traffic_passes import PassRequest, traffic_pass_apply
from yunzheng.elicense.vehicles import vehicle_certificate_issue
from yunzheng.licensing import services
from yunzheng.licensing.models import LicenceApplication, Step, TestPassedDocument, TestSlotMonth
from yunzheng.licensing.tests.factories import advance_to, company_with_contact, officials, pdf_upload
from yunzheng.web.tests.permission_walk import CITY, MINISTRY, PROVINCE, Account, Env, Outcome, Pool, Scenario

_serial = itertools.count(1)


class _Licensing(Scenario):
    item_region: ClassVar[str | None] = "330100"  # the application's city
    hides_items = True
    no_api = (
        "the licensing API serves companies (slots, bookings, their applications); "
        "staff act on the application page"
    )

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        env.settings.PRIVATE_MEDIA_ROOT = env.tmp_path / "private"
        self.now = timezone.now()  # the page acts "now": the test-passed document must be valid
        self.who = officials()

    def application(self, target: str) -> LicenceApplication:
        company, contact = company_with_contact()
        application = services.application_create(
            company=company, path="national", city_code="330100", user=contact, now=self.now
        )
        if target in (Step.QUOTA_REVIEW, Step.MINISTRY_REPLY, Step.TEST_BOOKING):
            return advance_to(application, target, user=contact, who=self.who, now=self.now)
        advance_to(application, Step.TEST_BOOKING, user=contact, who=self.who, now=self.now)
        month = self.now.date().replace(day=1)
        if not TestSlotMonth.objects.filter(month=month).exists():
            services.test_slot_month_create(
                month=month, user=self.who.ministry, capacity=500, opens_at=self.now - dt.timedelta(hours=1)
            )
        services.test_booking_create(company_id=company.pk, month=month, user=contact, now=self.now)
        application.refresh_from_db()
        if target == Step.TEST_RUN:
            return application
        services.test_result_record(
            application=application,
            user=self.who.ministry,
            passed=True,
            issued_on=self.now.date(),
            now=self.now,
        )
        application.refresh_from_db()
        services.material_upload(
            application=application,
            kind="capability",
            upload=pdf_upload("capability.pdf"),
            user=contact,
            now=self.now,
        )
        services.capability_submit(application=application, user=contact, now=self.now)
        services.capability_forward(application=application, user=self.who.city, now=self.now)
        if target == "distributed":
            services.capability_distribute(application=application, user=self.who.province, now=self.now)
        application.refresh_from_db()
        return application

    def act(self, account: Account, application: LicenceApplication, data: dict[str, str]) -> Any:
        return account.client.post(f"/licensing/applications/{application.pk}/act/", data)


class StepAct(_Licensing):
    """Each account tries the generic step that waits for the transport authority of its level:
    the city sends the work letter, the ministry records its reply, the province distributes the
    capability review to the five departments."""

    action = "licensing.step.act"
    page = "POST /licensing/applications/<id>/act/ (send_letter | ministry_reply | distribute)"

    STEPS = {
        CITY: (Step.QUOTA_REVIEW, {"action": "send_letter", "letter_number": "杭运函〔2026〕9号"}),
        MINISTRY: (Step.MINISTRY_REPLY, {"action": "ministry_reply", "reply_number": "交办运函9号"}),
        PROVINCE: (Step.CAPABILITY_REVIEW, {"action": "distribute"}),
    }

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.applications = Pool(lambda level: self.application(self.STEPS[level][0]))

    def try_page(self, account: Account) -> Outcome:
        application = self.applications.get(account.level)
        before = application.transitions.count()
        day = self.now.date().isoformat()
        data = {**self.STEPS[account.level][1], "letter_date": day, "reply_date": day}
        response = self.act(account, application, data)
        changed = application.transitions.count() > before
        if changed:
            self.applications.spend(account.level)
        return Outcome(response, changed)


class DepartmentReview(_Licensing):
    action = "licensing.case.department_review"
    item_region = "330000"  # the case's province: each department's provincial office reviews
    page = "POST /licensing/applications/<id>/act/ action=department_review"
    no_api = (
        "GET /api/v1/licensing/applications/<id> shows the case to every party of it, not only the "
        "departments; the opinion is given on the application page"
    )

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.case = self.application("distributed")  # one case: each department answers once

    def _answered(self, department: str) -> bool:
        stage = self.case.stages.get(kind=Step.CAPABILITY_REVIEW)
        review = stage.department_reviews.filter(department=department).first()
        return review is not None and review.reviewed_at is not None

    def try_page(self, account: Account) -> Outcome:
        before = {
            d: self._answered(d) for d in ("public_security", "pboc", "tax", "communications", "cyberspace")
        }
        response = self.act(
            account,
            self.case,
            {"action": "department_review", "recommendation": "approve", "comments": "同意"},
        )
        after = {d: self._answered(d) for d in before}
        return Outcome(response, after != before)


class RecordResult(_Licensing):
    action = "licensing.test.record_result"
    item_region = None
    page = "POST /licensing/applications/<id>/act/ action=test_failed"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.applications = Pool(lambda _key: self.application(Step.TEST_RUN))

    def try_page(self, account: Account) -> Outcome:
        application = self.applications.get()
        response = self.act(account, application, {"action": "test_failed", "reason": "连通性测试未通过"})
        application.refresh_from_db()
        changed = application.step != Step.TEST_RUN
        if changed:
            self.applications.spend()
        return Outcome(response, changed)


class DocumentIssue(RecordResult):
    action = "licensing.test_document.issue"
    page = "POST /licensing/applications/<id>/act/ action=test_passed (issues the document)"

    def try_page(self, account: Account) -> Outcome:
        application = self.applications.get()
        response = self.act(
            account, application, {"action": "test_passed", "issued_on": self.now.date().isoformat()}
        )
        changed = TestPassedDocument.objects.filter(company=application.company).exists()
        if changed:
            self.applications.spend()
        return Outcome(response, changed)


class OfficialStart(Scenario):
    action = "licensing.test.official_start"
    item_region = None
    api = "POST /api/v1/conformance/official-campaigns"
    page = "POST /conformance/staff/official/"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.companies = Pool(lambda _key: company_with_contact()[0])

    def _attempt(self, account: Account, url: str, **post: Any) -> Outcome:
        company = self.companies.get()
        data = {"company_id": company.pk, "reference": "部级准入测试 2026-12"}
        response = account.client.post(url, data, **post)
        changed = Campaign.objects.filter(company=company, kind=Campaign.Kind.OFFICIAL).exists()
        if changed:
            self.companies.spend()
        return Outcome(response, changed)

    def try_api(self, account: Account) -> Outcome:
        return self._attempt(
            account, "/api/v1/conformance/official-campaigns", content_type="application/json"
        )

    def try_page(self, account: Account) -> Outcome:
        return self._attempt(account, "/conformance/staff/official/")


class TrafficPassReview(Scenario):
    """Passes are issued by Tianjin (ELICENSE_TRAFFIC_PASS_REGION 120000, a municipality): its
    traffic police at province level review them; the accounts of this walk sit in Tianjin."""

    action = "traffic_pass.review"
    regions = {MINISTRY: "", PROVINCE: "120000", CITY: "120100"}
    item_region = "120000"
    api = "POST /api/v1/elicense/staff/traffic-passes/<id>/data-review"
    page = "POST /elicense/staff/passes/<id>/ action=data_review"
    hides_items = True  # staff whose region does not cover the pass's do not find it

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        env.settings.PRIVATE_MEDIA_ROOT = env.tmp_path / "private"
        for province in ("120000",):
            if not SigningKey.objects.filter(province=province, status=SigningKey.Status.ACTIVE).exists():
                elicense_services.signing_key_create(province=province, actor=SYSTEM)
        self.holder = make_verified_user()
        self.applications = Pool(self._application)

    def _application(self, _key: str) -> TrafficPassApplication:
        plate = f"津A{next(_serial):05d}"
        vehicle_certificate_issue(
            certificate_number=f"1201019{next(_serial):05d}",
            plate_number=plate,
            plate_colour=PlateColour.YELLOW,
            business_scope="道路普通货物运输",
            issuing_region="120100",
            valid_from=today() - dt.timedelta(days=100),
            valid_until=today() + dt.timedelta(days=700),
            actor=SYSTEM,
            owner_user=self.holder,
        )
        request = PassRequest(
            plate_number=plate,
            pass_type=PassType.TRUCK_NIGHT,
            road_sections=["快速路中环线"],
            time_windows=["22:00-06:00"],
            valid_from=today(),
            valid_until=today() + dt.timedelta(days=30),
            vehicle_task="freight",
            no_alternative_route=True,
        )
        return traffic_pass_apply(user=self.holder, request=request)

    def _outcome(self, application: TrafficPassApplication, response: Any) -> Outcome:
        application.refresh_from_db()
        changed = application.status != TrafficPassApplication.Status.SUBMITTED
        if changed:
            self.applications.spend()
        return Outcome(response, changed)

    def try_api(self, account: Account) -> Outcome:
        application = self.applications.get()
        response = account.client.post(
            f"/api/v1/elicense/staff/traffic-passes/{application.pk}/data-review",
            {"reason": ""},
            content_type="application/json",
        )
        return self._outcome(application, response)

    def try_page(self, account: Account) -> Outcome:
        application = self.applications.get()
        response = account.client.post(
            f"/elicense/staff/passes/{application.pk}/", {"action": "data_review", "reason": ""}
        )
        return self._outcome(application, response)


class AlarmHandle(Scenario):
    """An SOS alarm of Hangzhou, opened by the alarm engine's service: transport and police of
    every level covering Hangzhou acknowledge it (police handle SOS alarms only)."""

    action = "alarm.handle"
    item_region = "330100"
    api = "POST /api/v1/supervision/alarms/<id>/acknowledge"
    page = "POST /supervision/alarms/<id>/act/ action=acknowledge"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        author = make_staff("330100", level=CITY)
        rule = alarm_services.rule_create(
            user=author,
            name="SOS",
            region_code="330100",
            kind="warn_status",
            severity="critical",
            params={"bits": [0], "auto_close": False},
            enabled=True,
        )
        self.spec = rule_specs([rule])[0]
        self.company, _contact = company_with_contact()
        self.alarms = Pool(self._alarm)

    def _alarm(self, _key: str) -> Alarm:
        now = timezone.now()
        signal = Signal(
            action=OPEN,
            rule=self.spec,
            subject=f"vehicle:浙A{next(_serial):05d}",
            company_pk=self.company.pk,
            at=int(now.timestamp()),
            region=330100,
            vehicle_no="浙A12345",
            detail="SOS",
        )
        (opened,) = alarm_services.alarm_signals_apply(signals=[signal], now=now)
        return opened

    def _outcome(self, alarm: Alarm, response: Any) -> Outcome:
        alarm.refresh_from_db()
        changed = alarm.state != Alarm.State.OPEN
        if changed:
            self.alarms.spend()
        return Outcome(response, changed)

    def try_api(self, account: Account) -> Outcome:
        alarm = self.alarms.get()
        response = account.client.post(
            f"/api/v1/supervision/alarms/{alarm.pk}/acknowledge",
            {"note": ""},
            content_type="application/json",
        )
        return self._outcome(alarm, response)

    def try_page(self, account: Account) -> Outcome:
        alarm = self.alarms.get()
        response = account.client.post(
            f"/supervision/alarms/{alarm.pk}/act/", {"action": "acknowledge", "note": ""}
        )
        return self._outcome(alarm, response)
