"""Test data for alarms: rules through the services, records through the real exchange interface."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from yunzheng.accounts.models import User
from yunzheng.accounts.tests.factories import staff
from yunzheng.alarms import services
from yunzheng.alarms.live import forget_compiled_rules
from yunzheng.alarms.models import Alarm, AlarmRule
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING
from yunzheng.exchange.tests.conftest import Uploader

HZ = 330100
HZ_POINT = (120_150_000, 30_270_000)  # 杭州 (inside its extent)
SH_POINT = (121_470_000, 31_230_000)  # 上海: outside 杭州's extent
PLATE = "浙A12345"


def bj(hour: int = 10, minute: int = 0, second: int = 0, day: int = 3) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=BEIJING)


def dt14(t: datetime) -> int:
    return int(t.astimezone(BEIJING).strftime("%Y%m%d%H%M%S"))


def clerk(username: str = "hz-alarm-clerk", **kw: Any) -> User:
    return staff(
        username,
        department=kw.pop("department", "transport"),
        level=kw.pop("level", "city"),
        region=kw.pop("region", "330100"),
    )


def rule(
    kind: str,
    *,
    params: dict[str, Any] | None = None,
    severity: str = "high",
    user: User | None = None,
    region: str = "330100",
    schedule: dict[str, Any] | None = None,
    name: str = "",
) -> AlarmRule:
    author = user or User.objects.filter(username="hz-rule-author").first() or clerk("hz-rule-author")
    created = services.rule_create(
        user=author,
        name=name or kind,
        region_code=region,
        kind=kind,
        severity=severity,
        params=params or {},
        schedule=schedule or {},
        enabled=True,
    )
    forget_compiled_rules()
    return created


def position(
    company_id: str,
    when: datetime,
    *,
    point: tuple[int, int] = HZ_POINT,
    plate: str = PLATE,
    speed: int = 40,
    biz: int = 1,
    warn: int = 0,
    order: str = "ORD1",
) -> dict[str, Any]:
    return valid_record(
        "positionVehicle",
        seed=1,
        CompanyId=company_id,
        VehicleNo=plate,
        VehicleRegionCode=HZ,
        PositionTime=dt14(when),
        Longitude=point[0],
        Latitude=point[1],
        Speed=speed,
        Direction=90,
        WarnStatus=warn,
        BizStatus=biz,
        OrderId=order,
        Encrypt=1,
    )


def track(
    company_id: str, start: datetime, minutes: int, *, every: int = 60, **kw: Any
) -> list[dict[str, Any]]:
    return [
        position(company_id, start + timedelta(seconds=s), **kw) for s in range(0, minutes * 60 + 1, every)
    ]


def send(uploader: Uploader, interface: str, records: list[dict[str, Any]]) -> Any:
    response = uploader.post_json(interface, records)
    body = response.json()
    assert response.status_code == 200, body
    assert body["rejected"] == [], body["rejected"][:3]
    return body


def alarms(kind: str | None = None, **filters: Any) -> list[Alarm]:
    qs = Alarm.objects.all().order_by("id")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.filter(**filters))
