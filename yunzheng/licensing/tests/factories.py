"""Test data for the licensing app, created through the real services."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from yunzheng.accounts import services as accounts_services
from yunzheng.accounts.models import Company, User
from yunzheng.accounts.tests.factories import credit_code, id_number, staff
from yunzheng.core.audit import Actor
from yunzheng.core.crypto import lookup_hash
from yunzheng.licensing import services
from yunzheng.licensing.demo import minimal_pdf
from yunzheng.licensing.models import LicenceApplication, OperatingLicence, SecurityEvaluation, Step

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
_phones = itertools.count(13900000100)
_companies = itertools.count(1)


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    """A moment in China (the platform's time zone)."""
    return dt.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def pdf_upload(name: str = "doc.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, minimal_pdf(name), content_type="application/pdf")


def verified_user(phone: str, *, region: str = "330106", name: str = "王芳") -> User:
    """A real-name verified public user. Created like accounts' demo data (the SMS login itself is
    accounts' business and needs committed transactions), then verified through the service."""
    user = User(username=f"u-{phone}", kind=User.Kind.PUBLIC, phone=phone, phone_hash=lookup_hash(phone))
    user.set_unusable_password()
    user.save()
    accounts_services.realname_verification_record_in_person(
        user=user,
        name=name,
        id_number=id_number(region=region, sequence=phone[-3:]),
        ethnicity="汉",
        address="浙江省杭州市西湖区文三路1号",
        recorded_by=Actor.system("test"),
        reason="test",
    )
    user.refresh_from_db()
    return user


def company_with_contact(*, region: str = "330106") -> tuple[Company, User]:
    phone = str(next(_phones))
    user = verified_user(phone, region=region)
    number = next(_companies)
    body = f"91330106MA{number:07d}"
    company = accounts_services.company_register(
        user=user,
        credit_code=credit_code(body),
        name=f"测试出行科技有限公司{number}",
        legal_representative="李明",
    )
    return company, user


@dataclass
class Officials:
    city: User  # 杭州市 transport
    province: User  # 浙江省 transport
    ministry: User  # Ministry of Transport
    departments: dict[str, User]  # the five, at 浙江省


_officials_counter = itertools.count(1)


def officials() -> Officials:
    n = next(_officials_counter)
    return Officials(
        city=staff(f"city-{n}", department="transport", level="city", region="330100"),
        province=staff(f"prov-{n}", department="transport", level="province", region="330000"),
        ministry=staff(f"mot-{n}", department="transport", level="ministry", region=""),
        departments={
            department: staff(f"{department}-{n}", department=department, level="province", region="330000")
            for department in ("public_security", "pboc", "tax", "communications", "cyberspace")
        },
    )


def qualified_agency(name: str = "浙江省信息安全测评中心", *, since: dt.date = dt.date(2020, 1, 1)) -> None:
    """Put an agency in the register of qualified evaluation agencies (the ministry does it)."""
    from yunzheng.licensing.models import EvaluationAgency

    if not EvaluationAgency.objects.filter(name=name).exists():
        ministry = staff(
            f"mot-register-{next(_officials_counter)}", department="transport", level="ministry", region=""
        )
        services.evaluation_agency_register(user=ministry, name=name, authorised_from=since)


def record_evaluations(company: Company, user: User, *, issued_on: dt.date, now: dt.datetime) -> None:
    qualified_agency()
    for kind in SecurityEvaluation.Kind.values:
        services.security_evaluation_record(
            company=company,
            kind=kind,
            agency="浙江省信息安全测评中心",
            report_number=f"R-{kind}",
            issued_on=issued_on,
            upload=pdf_upload(f"{kind}.pdf"),
            user=user,
            filing_number="33010013001-26001" if kind == "level3" else "",
            now=now,
        )


def advance_to(
    application: LicenceApplication, target: str, *, user: User, who: Officials, now: dt.datetime
) -> LicenceApplication:
    """Walk an application through the real services until it reaches `target`."""
    order = [
        Step.QUOTA_MATERIALS,
        Step.QUOTA_REVIEW,
        Step.MINISTRY_REPLY,
        Step.COMPANY_INFO,
        Step.TEST_ACCOUNT,
        Step.VPN_ACCOUNT,
        Step.TEST_BOOKING,
    ]
    while application.step != target:
        application.refresh_from_db()
        step = application.step
        if step == target:
            break
        if step == Step.QUOTA_MATERIALS:
            for kind in ("annex2", "annex3", "annex4", "cloud_proof"):
                services.material_upload(
                    application=application, kind=kind, upload=pdf_upload(f"{kind}.pdf"), user=user, now=now
                )
            services.quota_materials_submit(application=application, user=user, now=now)
        elif step == Step.QUOTA_REVIEW:
            services.work_letter_send(
                application=application,
                user=who.city,
                letter_number="杭运函〔2026〕1号",
                letter_date=now.date(),
                now=now,
            )
        elif step == Step.MINISTRY_REPLY:
            services.ministry_reply_record(
                application=application,
                user=who.ministry,
                reply_number="交办运函1号",
                reply_date=now.date(),
                now=now,
            )
        elif step == Step.COMPANY_INFO:
            services.company_info_complete(
                application=application,
                user=user,
                platform_name="云途出行",
                app_name="云途",
                server_location="阿里云华东1（杭州）",
                now=now,
            )
        elif step == Step.TEST_ACCOUNT:
            services.test_account_open(
                application=application, user=who.ministry, account="test-001", now=now
            )
        elif step == Step.VPN_ACCOUNT:
            services.vpn_account_open(application=application, user=who.ministry, account="vpn-001", now=now)
        else:
            raise AssertionError(f"advance_to cannot pass {step} (order: {order})")
        application.refresh_from_db()
    return application


def national_licence(
    *, now: dt.datetime, region: str = "330106"
) -> tuple[Company, User, Officials, OperatingLicence]:
    """A company walked through the whole national path in Hangzhou (330100), up to its granted
    operating licence; returns (company, contact, officials, licence)."""
    from yunzheng.licensing.models import TestSlotMonth

    company, user = company_with_contact(region=region)
    who = officials()
    application = services.application_create(
        company=company, path="national", city_code="330100", user=user, now=now
    )
    advance_to(application, Step.TEST_BOOKING, user=user, who=who, now=now)
    month = now.date().replace(day=1)
    if not TestSlotMonth.objects.filter(month=month).exists():
        services.test_slot_month_create(
            month=month, user=who.ministry, capacity=50, opens_at=now - dt.timedelta(hours=1)
        )
    services.test_booking_create(company_id=company.pk, month=month, user=user, now=now)
    application.refresh_from_db()
    services.test_result_record(
        application=application, user=who.ministry, passed=True, issued_on=now.date(), now=now
    )
    application.refresh_from_db()
    services.material_upload(
        application=application, kind="capability", upload=pdf_upload(), user=user, now=now
    )
    services.capability_submit(application=application, user=user, now=now)
    services.capability_forward(application=application, user=who.city, now=now)
    services.capability_distribute(application=application, user=who.province, now=now)
    for official in who.departments.values():
        services.department_review_submit(
            application=application, user=official, recommendation="approve", comments="同意", now=now
        )
    services.capability_decide(
        application=application,
        user=who.province,
        decision="approve",
        decision_number="浙交认〔2026〕1号",
        now=now,
    )
    record_evaluations(company, user, issued_on=now.date() - dt.timedelta(days=10), now=now)
    services.evaluations_submit(application=application, user=user, now=now)
    licence = services.licence_grant(
        application=application, user=who.city, scope="网约车", area="杭州市", now=now
    )
    return company, user, who, licence
