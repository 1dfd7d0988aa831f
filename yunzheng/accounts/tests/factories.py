"""Test data, created through the real services (never by writing models by hand)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.db import connection
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image, ImageDraw, ImageFont
from stdnum.cn import ric, uscc

from yunzheng.accounts import services
from yunzheng.accounts.models import User
from yunzheng.core.audit import Actor
from yunzheng.core.sms import SmsMessage, read_outbox

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
STAFF_PASSWORD = "a-long-staff-password"


def id_number(region: str = "330106", birth: str = "19900307", sequence: str = "123") -> str:
    base = region + birth + sequence
    return base + ric.calc_check_digit(base + "0")


def credit_code(body: str = "91330106MA2H4K7Q1") -> str:
    return body + uscc.calc_check_digit(body)


def run_pending_on_commit() -> None:
    """Inside a test's transaction nothing ever commits, so `transaction.on_commit` hooks (the SMS)
    would never run: run those of the service calls that finished, as their commit would have.
    Django already dropped the hooks of rolled-back savepoints."""
    callbacks, connection.run_on_commit = connection.run_on_commit, []
    for entry in callbacks:
        entry[1]()  # (savepoint ids, callback, robust)


def sms_to(phone: str) -> list[SmsMessage]:
    run_pending_on_commit()
    return read_outbox(phone=phone)


def last_code(phone: str) -> str:
    messages = [m for m in sms_to(phone) if m.template == "login_code"]
    assert messages, f"no login code was sent to {phone}"
    return str(messages[-1].params["code"])


def login(phone: str, *, client_ip: str = "127.0.0.1", now: dt.datetime | None = None) -> User:
    services.sms_code_request(phone=phone, client_ip=client_ip, agreed=True, now=now)
    return services.sms_login(
        phone=phone, code=last_code(phone), client_ip=client_ip, agreed=True, now=now
    ).user


def verified_user(
    phone: str, *, name: str = "王芳", number: str | None = None, region: str = "330106"
) -> User:
    user = login(phone)
    services.realname_verification_record_in_person(
        user=user,
        name=name,
        id_number=number or id_number(region=region, sequence=phone[-3:]),
        ethnicity="汉",
        address="浙江省杭州市西湖区文三路1号",
        recorded_by=Actor.system("test"),
        reason="test",
    )
    user.refresh_from_db()
    return user


def staff(
    username: str, *, department: str = "transport", level: str = "city", region: str = "330100"
) -> User:
    return services.staff_user_create(
        username=username,
        password=STAFF_PASSWORD,
        department=department,
        level=level,
        region_code=region,
        created_by=Actor.system("test"),
    )


def totp_now(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset_steps * device.step
    return f"{totp.token():06d}"


def staff_client(user: User) -> Client:
    """A browser session through the real two-step staff login (password, then TOTP)."""
    device = TOTPDevice.objects.filter(
        user=user, confirmed=True
    ).first() or services.staff_totp_device_create(user=user, confirmed=True)
    client = Client()
    response = client.post("/accounts/staff/login/", {"username": user.username, "password": STAFF_PASSWORD})
    assert response.status_code == 302, response.content
    response = client.post("/accounts/staff/otp/", {"token": totp_now(device)})
    assert response.status_code == 302, response.content
    return client


def public_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def png_bytes(width: int = 200, height: int = 120, **save: Any) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (230, 235, 240)).save(buffer, format="PNG", **save)
    return buffer.getvalue()


def id_card_image(
    *,
    name: str = "张三丰",
    sex: str = "男",
    ethnicity: str = "汉",
    birth: tuple[int, int, int] = (1990, 3, 7),
    address: tuple[str, ...] = ("浙江省杭州市西湖区文三路", "100号2幢301室"),
    number: str | None = None,
    image_format: str = "PNG",
) -> bytes:
    """A synthetic portrait side of a resident ID card, drawn with the Noto CJK font."""
    number = number or id_number()
    image = Image.new("RGB", (856, 540), (236, 242, 240))
    draw = ImageDraw.Draw(image)
    label = ImageFont.truetype(CJK_FONT, 26, index=2)  # index 2: the Simplified Chinese face
    value = ImageFont.truetype(CJK_FONT, 30, index=2)
    blue, ink = (70, 110, 160), (20, 20, 20)
    draw.text((60, 50), "姓  名", font=label, fill=blue)
    draw.text((170, 46), name, font=value, fill=ink)
    draw.text((60, 115), "性  别", font=label, fill=blue)
    draw.text((170, 111), sex, font=value, fill=ink)
    draw.text((290, 115), "民  族", font=label, fill=blue)
    draw.text((400, 111), ethnicity, font=value, fill=ink)
    draw.text((60, 180), "出  生", font=label, fill=blue)
    year, month, day = birth
    draw.text((170, 176), f"{year}  年  {month}  月  {day}  日", font=value, fill=ink)
    draw.text((60, 245), "住  址", font=label, fill=blue)
    for row, line in enumerate(address):
        draw.text((170, 241 + 45 * row), line, font=value, fill=ink)
    draw.text((60, 430), "公民身份号码", font=label, fill=blue)
    draw.text((260, 426), number, font=value, fill=ink)
    draw.rectangle((620, 60, 800, 290), fill=(200, 210, 220))  # where the portrait would be
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()
