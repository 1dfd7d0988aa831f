"""Demo data of the licensing app (idempotent; `make run` loads it after accounts' demo).

- city quotas: 杭州市 (330100) accepts new platforms; 温州市 (330300) stopped, with a (fictitious,
  demo) notice;
- a ministry transport official (accounts' demo has province and city staff only);
- the demo platforms' national applications, walked through the real services to different steps:
  the demo company's up to the online service capability review, distributed, with two department
  opinions in; 余杭快行's all the way to "granted" (five opinions, the province's capability
  determination, the three security evaluations, and the city's licence entered in the
  operating-licence registry with its electronic licence);
- test appointment months: this month and the next, 20 slots each, opening at noon on the 1st.
"""

from __future__ import annotations

import base64
import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunzheng.accounts.models import Company, StaffProfile, User
from yunzheng.accounts.services import staff_totp_device_create, staff_user_create
from yunzheng.core.audit import Actor
from yunzheng.core.clock import today_in_china
from yunzheng.core.demodata import DemoLogin
from yunzheng.licensing import services
from yunzheng.licensing.models import (
    CityQuota,
    EvaluationAgency,
    LicenceApplication,
    SecurityEvaluation,
    Step,
    TestSlotMonth,
)

MINISTRY_USERNAME = "mot-transport"
STAFF_PASSWORD = "yunzheng-staff-demo"  # noqa: S105  (demo only, same as accounts' demo staff)
DEMO_CREDIT_CODE_PREFIX = "91330106MA2H4K7Q1"  # accounts.demo's company


def minimal_pdf(title: str = "yunzheng") -> bytes:
    """A small, structurally complete PDF (header, objects, xref table, trailer)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        f"<< /Title ({title}) >>".encode("ascii", "replace"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 4 0 R >>\n"
    out += (trailer + f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, minimal_pdf(name), content_type="application/pdf")


def _ministry_official() -> tuple[User, str]:
    user = User.objects.filter(username=MINISTRY_USERNAME).first()
    if user is None:
        user = staff_user_create(
            username=MINISTRY_USERNAME,
            password=STAFF_PASSWORD,
            department=StaffProfile.Department.TRANSPORT,
            level=StaffProfile.Level.MINISTRY,
            region_code="",
            unit_name="交通运输部运输服务司",
            created_by=Actor.system("demo"),
        )
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = staff_totp_device_create(user=user, confirmed=True)
    return user, base64.b32encode(device.bin_key).decode("ascii")


def _staff(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _quotas(city: User | None, province: User | None) -> None:
    if province is None:
        return
    if not CityQuota.objects.filter(city_code="330100").exists() and city is not None:
        services.city_quota_set(city_code="330100", accepting=True, user=city)
    if not CityQuota.objects.filter(city_code="330300").exists():
        services.city_quota_set(
            city_code="330300",
            accepting=False,
            user=province,
            notice_number="温交运〔2025〕18号（演示）",
            notice_title="关于暂停受理新增网约车平台公司经营许可申请的通告（演示数据）",
            notice_date=dt.date(2025, 9, 1),
        )


def _slot_months(ministry: User) -> None:
    today = today_in_china()
    this_month = today.replace(day=1)
    next_month = (this_month + dt.timedelta(days=32)).replace(day=1)
    for month in (this_month, next_month):
        if not TestSlotMonth.objects.filter(month=month).exists():
            services.test_slot_month_create(month=month, user=ministry, capacity=20)


# Applications of the demo platforms and the step each is left at (credit-code prefix, city, step).
APPLICATIONS = (
    (DEMO_CREDIT_CODE_PREFIX, "330100", Step.CAPABILITY_REVIEW),  # 云途出行: with the departments
    ("91330108MA2L9WL2D", "330100", Step.TEST_BOOKING),  # 浙里打车: must book a test
    ("91330104MA2J7QX3K", "330100", Step.QUOTA_REVIEW),  # 钱江约车: the city writes to the ministry
    ("91330203MA2K8RT6P", "330200", Step.QUOTA_MATERIALS),  # 甬城出行: still gathering annexes
    ("91330110MA2N5GF8X", "330100", Step.GRANTED),  # 余杭快行: licensed
)
# The evaluating agency of the demo's security evaluations (the ministry's register lists it).
DEMO_AGENCY = "浙江省信息安全测评中心（演示）"


def _walk(application: LicenceApplication, ministry: User, until: str) -> None:
    """Take the application through the real services until it stands at step ``until``."""
    company = application.company
    user = company.contact_user
    city, province = _staff("hz-transport"), _staff("zj-transport")
    if user is None or city is None or province is None:
        raise RuntimeError("the demo needs the company's contact person and the Zhejiang staff")
    today = today_in_china()
    short = company.supervision_company_id[6:10]  # e.g. YUNT
    number = 12 + [a[0] for a in APPLICATIONS].index(company.credit_code[:17])

    def at(step: str) -> bool:
        application.refresh_from_db()
        return application.step == until or application.step != step

    if at(Step.QUOTA_MATERIALS):
        return
    for kind in services.QUOTA_MATERIAL_KINDS:
        services.material_upload(application=application, kind=kind, upload=_pdf(f"{kind}.pdf"), user=user)
    services.quota_materials_submit(application=application, user=user)
    if at(Step.QUOTA_REVIEW):
        return
    services.work_letter_send(
        application=application,
        user=city,
        letter_number=f"杭运管函〔2026〕{number}号（演示）",
        letter_date=today,
    )
    services.ministry_reply_record(
        application=application,
        user=ministry,
        reply_number=f"交运便字〔2026〕{number + 76}号（演示）",
        reply_date=today,
    )
    if at(Step.COMPANY_INFO):
        return
    from yunzheng.accounts.demo import LICENSED_PLATFORM, PLATFORMS

    names = {p.credit_code: p.display_name.split("（")[0] for p in (*PLATFORMS, LICENSED_PLATFORM)}
    name = names.get(company.credit_code, company.name)
    services.company_info_complete(
        application=application,
        user=user,
        platform_name=name,
        app_name=name,
        server_location="华东（杭州）云计算数据中心",
    )
    services.test_account_open(application=application, user=ministry, account=f"{short.lower()}-test")
    services.vpn_account_open(application=application, user=ministry, account=f"{short.lower()}-vpn")
    if at(Step.TEST_BOOKING):
        return
    month = today.replace(day=1)
    services.test_booking_create(
        company_id=company.pk,
        month=month,
        user=user,
        now=max(timezone.now(), services.default_opens_at(month)),
    )
    application.refresh_from_db()
    services.test_result_record(application=application, user=ministry, passed=True, issued_on=today)
    services.material_upload(
        application=application, kind="capability", upload=_pdf("capability.pdf"), user=user
    )
    services.capability_submit(application=application, user=user)
    services.capability_forward(application=application, user=city)
    services.capability_distribute(application=application, user=province)
    opinions = (
        ("zj-police", "数据安全措施符合要求（演示）"),
        ("zj-tax", "税务登记正常（演示）"),
        ("zj-pboc", "支付结算合规（演示）"),
        ("zj-telecom", "增值电信业务许可有效（演示）"),
        ("zj-cac", "网络安全管理制度健全（演示）"),
    )
    for username, comments in opinions[: 5 if until == Step.GRANTED else 2]:
        official = _staff(username)
        if official is not None:
            services.department_review_submit(
                application=application, user=official, recommendation="approve", comments=comments
            )
    if at(Step.CAPABILITY_REVIEW):
        return
    _grant(application, ministry=ministry, city=city, province=province, number=number)


def _grant(
    application: LicenceApplication, *, ministry: User, city: User, province: User, number: int
) -> None:
    """From the capability review to the granted licence, through the real services."""
    company, user = application.company, application.company.contact_user
    if user is None:
        raise RuntimeError("the demo needs the company's contact person")
    today = today_in_china()
    services.capability_decide(
        application=application,
        user=province,
        decision="approve",
        decision_number=f"浙交认〔2026〕{number}号（演示）",
    )
    if not EvaluationAgency.objects.filter(name=DEMO_AGENCY).exists():
        services.evaluation_agency_register(
            user=ministry, name=DEMO_AGENCY, authorised_from=today - dt.timedelta(days=365)
        )
    for kind in SecurityEvaluation.Kind.values:
        services.security_evaluation_record(
            company=company,
            kind=kind,
            agency=DEMO_AGENCY,
            report_number=f"ZJCP-2026-{number:03d}-{kind}（演示）",
            issued_on=today - dt.timedelta(days=30),
            upload=_pdf(f"{kind}.pdf"),
            user=user,
            filing_number=f"33010013001-26{number:03d}" if kind == SecurityEvaluation.Kind.LEVEL3 else "",
        )
    services.evaluations_submit(application=application, user=user)
    services.licence_grant(application=application, user=city, scope="网络预约出租汽车客运", area="杭州市")


def _applications(ministry: User) -> None:
    if _staff("hz-transport") is None or _staff("zj-transport") is None:
        return
    for prefix, city_code, step in APPLICATIONS:
        company = Company.objects.filter(credit_code__startswith=prefix).first()
        if company is None or company.contact_user is None:
            continue
        if LicenceApplication.objects.filter(company=company).exists():
            continue
        application = services.application_create(
            company=company, path="national", city_code=city_code, user=company.contact_user
        )
        _walk(application, ministry, step)
        application.refresh_from_db()
        if application.step != step:
            raise RuntimeError(
                f"demo application of {company.name} stopped at {application.step}, not {step}"
            )


def load_demo() -> list[DemoLogin]:
    ministry, secret = _ministry_official()
    _quotas(_staff("hz-transport"), _staff("zj-transport"))
    _slot_months(ministry)
    _applications(ministry)
    return [
        DemoLogin(
            role="Staff: Ministry of Transport (licensing: ministry replies, accounts, test results, slots)",
            how=(
                f"username {MINISTRY_USERNAME} / password {STAFF_PASSWORD} / TOTP secret {secret} "
                f"(or: manage.py totp_code {MINISTRY_USERNAME})"
            ),
            where="/licensing/staff/",
        ),
        DemoLogin(
            role="Platform licensing: company task list (demo company's contact person, phone 13800000001)",
            how="SMS login, then the licensing page; staff desks at /licensing/staff/ (hz-transport, zj-*)",
            where="/licensing/",
        ),
    ]
