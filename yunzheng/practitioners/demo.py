"""Demo data of the One-Network Office (idempotent: certificates by number, users by phone or
username, cases only when their applicant has none yet).

- qualification certificates of five holders in two provinces: 浙江 (杭州, 330100) and 内蒙古
  (呼和浩特, 150100, as in the Inner Mongolia taxi-driver guide); one of them is the accounts demo
  driver (张伟), matched by his ID number, with violation records and a credit history;
- five more verified drivers with cases in every state of the workflow (draft, submitted,
  accepted, returned for supplement, rejected, approved and awaiting the new card, completed,
  withdrawn), so both clerks' queues have work;
- transport clerks for 呼和浩特 (city) and 内蒙古 (province) with TOTP devices (the 浙江 and 杭州
  clerks come from the accounts demo), and elicense signing keys for both provinces so that
  credit vouchers can be downloaded.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any

from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image, ImageDraw
from stdnum.cn import ric

from yunzheng.accounts import demo as accounts_demo
from yunzheng.accounts.models import StaffProfile, User
from yunzheng.accounts.services import (
    realname_verification_record_in_person,
    staff_totp_device_create,
    staff_user_create,
)
from yunzheng.core.audit import Actor
from yunzheng.core.clock import today_in_china
from yunzheng.core.crypto import lookup_hash
from yunzheng.core.demodata import DemoLogin
from yunzheng.elicense.models import SigningKey
from yunzheng.elicense.services import signing_key_create
from yunzheng.practitioners import catalogue, services
from yunzheng.practitioners.models import (
    CaseType,
    CertificateCategory,
    CreditAssessment,
    CreditGrade,
    DeliveryMethod,
    QualificationCertificate,
    ServiceCase,
    ViolationRecord,
)

ACTOR = Actor.system("demo")
C = CertificateCategory
HANGZHOU, HOHHOT = "330100", "150100"
HANGZHOU_AUTHORITY = "杭州市交通运输局"
HOHHOT_AUTHORITY = "呼和浩特市交通运输局"
HOHHOT_CLERK, INNER_MONGOLIA_CLERK = "hhht-transport", "nm-transport"


def _id_number(base17: str) -> str:
    return base17 + ric.calc_check_digit(base17 + "0")


# (phone or None, name, ID number, address, certificate number, region, authority, categories,
#  first issued, service unit, unit phone)
HOLDERS = [
    (
        accounts_demo.DRIVER_PHONE,
        accounts_demo.DRIVER_NAME,
        accounts_demo.DRIVER_ID_NUMBER,
        "浙江省杭州市西湖区文三路100号",
        "3301002015001234",
        HANGZHOU,
        HANGZHOU_AUTHORITY,
        [C.CRUISING_TAXI, C.RIDE_HAILING],
        dt.date(2015, 4, 20),
        "杭州大众出租汽车有限公司",
        "0571-88001234",
    ),
    (
        "13800000111",
        "李娜",
        _id_number("33010219900307102"),
        "浙江省杭州市上城区解放路58号",
        "3301002018004321",
        HANGZHOU,
        HANGZHOU_AUTHORITY,
        [C.RIDE_HAILING],
        dt.date(2018, 9, 3),
        accounts_demo.COMPANY_NAME,
        "0571-86005678",
    ),
    (
        None,
        "赵强",
        _id_number("33010519850521301"),
        "浙江省杭州市拱墅区莫干山路1号",
        "3301002012007788",
        HANGZHOU,
        HANGZHOU_AUTHORITY,
        [C.FREIGHT, C.PASSENGER],
        dt.date(2012, 6, 11),
        "杭州顺达物流有限公司",
        "0571-87009988",
    ),
    (
        "13800000112",
        "巴特尔",
        _id_number("15010219900915401"),
        "内蒙古自治区呼和浩特市新城区成吉思汗大街12号",
        "1501002016000518",
        HOHHOT,
        HOHHOT_AUTHORITY,
        [C.CRUISING_TAXI],
        dt.date(2016, 5, 18),
        "呼和浩特市恒通出租汽车有限公司",
        "0471-6901234",
    ),
    (
        "13800000113",
        "王芳",
        _id_number("15010419920128202"),
        "内蒙古自治区呼和浩特市玉泉区大南街9号",
        "1501002019002266",
        HOHHOT,
        HOHHOT_AUTHORITY,
        [C.CRUISING_TAXI, C.PASSENGER],
        dt.date(2019, 3, 26),
        "呼和浩特市公交出租汽车有限公司",
        "0471-6905678",
    ),
    (
        "13800000114",
        "周杰",
        _id_number("33010419880716301"),
        "浙江省杭州市上城区望江路21号",
        "3301002017005566",
        HANGZHOU,
        HANGZHOU_AUTHORITY,
        [C.RIDE_HAILING],
        dt.date(2017, 7, 10),
        "杭州钱江约车网络科技有限公司",
        "0571-86667788",
    ),
    (
        "13800000115",
        "吴敏",
        _id_number("15010519940302402"),
        "内蒙古自治区呼和浩特市赛罕区大学东街15号",
        "1501002020003377",
        HOHHOT,
        HOHHOT_AUTHORITY,
        [C.CRUISING_TAXI],
        dt.date(2020, 8, 14),
        "呼和浩特市恒通出租汽车有限公司",
        "0471-6901234",
    ),
]


def _user_for(phone: str, name: str, id_number: str, address: str) -> User:
    user = User.objects.filter(phone_hash=lookup_hash(phone)).first()
    if user is None:
        user = User(
            username=f"demo-office-{phone[-4:]}",
            kind=User.Kind.PUBLIC,
            phone=phone,
            phone_hash=lookup_hash(phone),
        )
        user.set_unusable_password()
        user.save()
    if not user.is_real_name_verified:
        realname_verification_record_in_person(
            user=user,
            name=name,
            id_number=id_number,
            ethnicity="汉",
            address=address,
            recorded_by=ACTOR,
            reason="demo data",
        )
        user.refresh_from_db()
    return user


def _certificate(row: tuple[Any, ...], today: dt.date) -> QualificationCertificate:
    _phone, name, id_number, address, number, region, authority, categories, first, unit, unit_phone = row
    existing = QualificationCertificate.objects.filter(number=number).first()
    if existing is not None:
        return existing
    # Validity: six-year terms since first issue, the current one running well past today
    # (张伟's ends in a few months, so a renewal makes sense).
    valid_from = first
    while services.add_years(valid_from, 6) <= today:
        valid_from = services.add_years(valid_from, 6)
    valid_until = services.add_years(valid_from, 6) - dt.timedelta(days=1)
    if number == HOLDERS[0][4]:
        valid_until = today + dt.timedelta(days=75)
    return services.certificate_register(
        number=number,
        holder_name=name,
        holder_id_number=id_number,
        holder_address=address,
        categories=[str(c) for c in categories],
        issuing_authority=authority,
        region_code=region,
        first_issued_on=first,
        valid_from=valid_from,
        valid_until=valid_until,
        service_unit=unit,
        service_unit_phone=unit_phone,
        actor=ACTOR,
    )


def _demo_png(label: str) -> bytes:
    image = Image.new("RGB", (480, 320), (236, 242, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle([8, 8, 471, 311], outline=(21, 82, 168), width=4)
    draw.text((24, 24), "DEMO " + label, fill=(21, 82, 168))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _apply(
    user: User,
    certificate: QualificationCertificate,
    case_type: str,
    details: dict[str, object],
    *,
    mail: bool = False,
) -> ServiceCase:
    case = services.case_draft_create(
        applicant=user, case_type=case_type, certificate_id=certificate.pk, agreed=True
    )
    info = services.personal_info(case)
    case = services.case_form_save(
        case=case,
        applicant=user,
        phone=info.phone,
        address=info.address,
        contact_name=info.contact_name,
        details=details,
    )
    if catalogue.service(case_type).issues_new_certificate:
        case = services.case_delivery_save(
            case=case,
            applicant=user,
            method=DeliveryMethod.MAIL if mail else DeliveryMethod.COLLECT,
            recipient=info.contact_name,
            phone=info.phone,
            address=info.address,
        )
    for kind in services.required_materials_for(case):
        services.case_material_upload(case=case, applicant=user, kind=kind, upload=_demo_png(kind))
    return services.case_submit(case=case, applicant=user)


def _staff(username: str, level: str, region: str, unit: str) -> tuple[User, str]:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = staff_user_create(
            username=username,
            password=accounts_demo.STAFF_PASSWORD,
            department=StaffProfile.Department.TRANSPORT,
            level=level,
            region_code=region,
            unit_name=unit,
            created_by=ACTOR,
        )
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or staff_totp_device_create(
        user=user, confirmed=True
    )
    return user, base64.b32encode(device.bin_key).decode("ascii")


def _signing_keys() -> None:
    for province in ("330000", "150000"):
        if not SigningKey.objects.filter(
            province=province, purpose=SigningKey.Purpose.LICENCE, status="active"
        ).exists():
            signing_key_create(province=province, actor=ACTOR)


# 联系我们 on the driver's home: kept by each province's transport staff through the service.
_CONTACTS = (
    ("zj-transport", "330000", "陈敏", "浙江省交通运输厅运输服务处", "0571-87800000", "工作日 9:00-17:00"),
    ("zj-transport", "330000", "周强", "浙江省道路运输管理服务中心", "0571-87800001", "工作日 8:30-17:30"),
    (
        INNER_MONGOLIA_CLERK,
        "150000",
        "乌兰",
        "内蒙古自治区交通运输厅运输服务处",
        "0471-6600000",
        "工作日 9:00-17:00",
    ),
)


def _business_contacts(inner_mongolia_clerk: User) -> None:
    from yunzheng.practitioners.contacts import business_contact_add
    from yunzheng.practitioners.models import BusinessContact

    for username, province, name, unit, phone, hours in _CONTACTS:
        keeper = User.objects.filter(username=username).first() or inner_mongolia_clerk
        if not BusinessContact.objects.filter(province_code=province, name=name).exists():
            business_contact_add(
                staff_user=keeper, province_code=province, name=name, unit=unit, phone=phone, hours=hours
            )


def load_demo() -> list[DemoLogin]:
    today = today_in_china()
    _signing_keys()
    hangzhou_clerk = User.objects.filter(username="hz-transport").first()
    hohhot_clerk, hohhot_secret = _staff(HOHHOT_CLERK, StaffProfile.Level.CITY, HOHHOT, HOHHOT_AUTHORITY)
    province_clerk, province_secret = _staff(
        INNER_MONGOLIA_CLERK, StaffProfile.Level.PROVINCE, "150000", "内蒙古自治区交通运输厅"
    )
    _business_contacts(province_clerk)
    users: dict[str, User] = {}
    certificates: dict[str, QualificationCertificate] = {}
    for row in HOLDERS:
        phone, name, id_number, address = row[0], row[1], row[2], row[3]
        certificates[name] = _certificate(row, today)
        if phone is not None:
            users[name] = _user_for(phone, name, id_number, address)

    driver_certificate = certificates[accounts_demo.DRIVER_NAME]
    if not driver_certificate.violations.exists():
        ViolationRecord.objects.bulk_create(
            [
                ViolationRecord(
                    certificate=driver_certificate,
                    occurred_on=dt.date(today.year - 1, 8, 3),
                    description="未按规定使用出租汽车计价器",
                    points=3,
                    authority=HANGZHOU_AUTHORITY,
                ),
                ViolationRecord(
                    certificate=certificates["巴特尔"],
                    occurred_on=dt.date(today.year - 1, 11, 20),
                    description="巡游车拒载",
                    points=5,
                    authority=HOHHOT_AUTHORITY,
                ),
            ]
        )
    for certificate, year, grade in (
        (driver_certificate, today.year - 3, CreditGrade.AA),
        (driver_certificate, today.year - 2, CreditGrade.AAA),
        (certificates["王芳"], today.year - 2, CreditGrade.A),
    ):
        CreditAssessment.objects.get_or_create(
            certificate=certificate,
            cycle_year=year,
            defaults={
                "grade": grade,
                "assessed_on": dt.date(year + 1, 3, 15),
                "authority": certificate.issuing_authority,
            },
        )

    if hangzhou_clerk is not None and not ServiceCase.objects.filter(applicant=users["李娜"]).exists():
        li_na = users["李娜"]
        credit = _apply(
            li_na,
            certificates["李娜"],
            CaseType.CREDIT_ASSESSMENT,
            {"cycle_year": today.year - 1, "service_company": accounts_demo.COMPANY_NAME},
        )
        services.case_accept(case=credit, staff=hangzhou_clerk)
        services.case_approve(case=credit, staff=hangzhou_clerk, grade=CreditGrade.AAA)
        change = _apply(
            li_na,
            certificates["李娜"],
            CaseType.CHANGE_UNIT,
            {
                "new_unit": "杭州曹操出行科技有限公司",
                "unit_phone": "0571-85001111",
                "reason": "劳动合同到期，更换服务单位",
            },
            mail=True,
        )
        services.case_accept(case=change, staff=hangzhou_clerk)
    if not ServiceCase.objects.filter(applicant=users["巴特尔"]).exists():
        bater = users["巴特尔"]
        withdrawn = _apply(
            bater,
            certificates["巴特尔"],
            CaseType.REPLACEMENT,
            {"replacement_reason": "damaged", "licence_class": "A2"},
        )
        services.case_withdraw(case=withdrawn, applicant=bater, reason="证件已找回")
        _apply(
            bater,
            certificates["巴特尔"],
            CaseType.CREDIT_ASSESSMENT,
            {"cycle_year": today.year - 1, "service_company": ""},
        )
    if not ServiceCase.objects.filter(applicant=users["王芳"]).exists():
        wang = users["王芳"]
        info_change = _apply(
            wang,
            certificates["王芳"],
            CaseType.CHANGE_INFO,
            {"new_address": "内蒙古自治区呼和浩特市赛罕区昭乌达路20号", "reason": "搬家"},
            mail=True,
        )
        services.case_accept(case=info_change, staff=hohhot_clerk)
        services.case_return_for_supplement(
            case=info_change, staff=hohhot_clerk, reason="两寸照片不清晰，请重新上传。"
        )

    if hangzhou_clerk is not None and not ServiceCase.objects.filter(applicant=users["周杰"]).exists():
        zhou = users["周杰"]
        refused = _apply(
            zhou,
            certificates["周杰"],
            CaseType.CHANGE_INFO,
            {"new_address": "浙江省杭州市滨江区长河路8号", "reason": "搬家"},
        )
        services.case_reject(
            case=refused, staff=hangzhou_clerk, reason="户籍地址变更证明与申请地址不一致，不予受理。"
        )
        replacement = _apply(
            zhou,
            certificates["周杰"],
            CaseType.REPLACEMENT,
            {"replacement_reason": "damaged", "licence_class": "C1"},
            mail=True,
        )
        services.case_accept(case=replacement, staff=hangzhou_clerk)
        services.case_approve(case=replacement, staff=hangzhou_clerk)  # the new card is being made
    if not ServiceCase.objects.filter(applicant=users["吴敏"]).exists():
        wu = users["吴敏"]
        draft = services.case_draft_create(
            applicant=wu, case_type=CaseType.CHANGE_UNIT, certificate_id=certificates["吴敏"].pk, agreed=True
        )
        info = services.personal_info(draft)
        services.case_form_save(
            case=draft,
            applicant=wu,
            phone=info.phone,
            address=info.address,
            contact_name=info.contact_name,
            details={
                "new_unit": "呼和浩特市公交出租汽车有限公司",
                "unit_phone": "0471-6905678",
                "reason": "调换到公交出租公司",
            },
        )

    password = accounts_demo.STAFF_PASSWORD
    return [
        DemoLogin(
            role="One-Network Office: the demo driver (张伟), Hangzhou taxi certificate, credit history",
            how=f"phone {accounts_demo.DRIVER_PHONE}, SMS code from the outbox",
            where="/office/",
        ),
        DemoLogin(
            role="One-Network Office: drivers with cases (李娜 Hangzhou; 巴特尔, 王芳 Hohhot)",
            how="phones 13800000111, 13800000112, 13800000113, 13800000114 (周杰), 13800000115 (吴敏, "
            "a draft), SMS code from the outbox",
            where="/office/mine/",
        ),
        DemoLogin(
            role="One-Network Office queue, Hangzhou clerk",
            how=f"username hz-transport / password {password} (TOTP as printed for it)",
            where="/office/staff/",
        ),
        DemoLogin(
            role=f"One-Network Office queue, {HOHHOT_AUTHORITY} (city 150100)",
            how=f"username {HOHHOT_CLERK} / password {password} / TOTP secret {hohhot_secret}",
            where="/office/staff/",
        ),
        DemoLogin(
            role="One-Network Office queue, 内蒙古自治区交通运输厅 (province 150000)",
            how=f"username {INNER_MONGOLIA_CLERK} / password {password} / TOTP secret {province_secret}",
            where="/office/staff/",
        ),
    ]
