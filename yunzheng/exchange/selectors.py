"""Reads of the exchange data for regulators (pages, API) and for companies (their own stats).

Visibility: a staff member sees what their StaffScope covers (ministry: everything; province /
city: the GB/T 2260 prefix). A company is in a staff member's scope when it is registered there
or has current base information (vehicles, drivers ...) registered there; an order when its
company is in scope or the order's region (orderCreate.Address) is. A company credential sees only
its own company's upload statistics. Personal data is masked here, before any page or API sees it:
stored tokens are decrypted and masked (``personal_data.mask_record``); look-ups by a licence
number hash the regulator's plaintext and query the stored ``lookup_hash`` (ADR 0005).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company
from yunzheng.accounts.scopes import staff_scope
from yunzheng.core.errors import NotFound, PermissionDenied
from yunzheng.core.pagination import MappedQuerySet
from yunzheng.exchange import personal_data
from yunzheng.exchange.error_codes import ExchangeErrorCode
from yunzheng.exchange.models import (
    POSITION_DRIVER,
    POSITION_VEHICLE,
    BaseInfoCurrent,
    EventRecord,
    PositionRecord,
    RejectStat,
    UploadStat,
)
from yunzheng.exchange.spec import get_spec
from yunzheng.exchange.spec.datetimes import BEIJING, datetime14_to_datetime

# ---------------------------------------------------------------------------------------------
# scope
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadScope:
    """Who reads: staff with a region prefix ("" = nationwide), or one company (its own data)."""

    region_prefix: str | None = None
    company_pk: int | None = None
    label: str = ""

    @property
    def is_staff(self) -> bool:
        return self.region_prefix is not None

    def covers_region(self, code: int | str | None) -> bool:
        if self.region_prefix is None or code in (None, ""):
            return False
        return str(code).startswith(self.region_prefix)

    def region_range(self) -> tuple[int, int] | None:
        """Integer bounds of the region codes under the prefix; None for nationwide."""
        if not self.region_prefix:
            return None
        return int(self.region_prefix.ljust(6, "0")), int(self.region_prefix.ljust(6, "9"))


def read_scope_for_user(user: Any) -> ReadScope:
    """Staff (with a StaffProfile) read within their region; anyone else: PermissionDenied."""
    scope = staff_scope(user)
    return ReadScope(region_prefix=scope.region_prefix, label=scope.region_name)


def read_scope_for_company(company: Company) -> ReadScope:
    return ReadScope(company_pk=company.pk, label=company.name)


def visible_companies(scope: ReadScope) -> QuerySet[Company]:
    if scope.company_pk is not None:
        return Company.objects.filter(pk=scope.company_pk)
    bounds = scope.region_range()
    if bounds is None:
        return Company.objects.all()
    operating_here = BaseInfoCurrent.objects.filter(region_code__range=bounds).values("company_id")
    return Company.objects.filter(
        Q(region_code__startswith=scope.region_prefix) | Q(pk__in=operating_here)
    ).distinct()


def company_for_scope(*, scope: ReadScope, supervision_company_id: str) -> Company:
    company = visible_companies(scope).filter(supervision_company_id=supervision_company_id).first()
    if company is None:
        raise NotFound(ExchangeErrorCode.NOT_FOUND, _("No such company in your scope."))
    return company


# ---------------------------------------------------------------------------------------------
# personal data
# ---------------------------------------------------------------------------------------------


def mask_record(interface: str, record: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stored record with ID numbers, phones, names and addresses decrypted and masked
    (the fields of ``personal_data``)."""
    return personal_data.mask_record(interface, record)


# ---------------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------------


@dataclass
class StatRow:
    company_id: str
    company_name: str
    interface: str
    interface_name: str
    batches: int
    received: int
    accepted: int
    duplicates: int
    rejected: int
    last_received_at: datetime | None
    lag_avg_seconds: float | None
    lag_max_seconds: int

    @property
    def reject_rate(self) -> float:
        return self.rejected / self.received if self.received else 0.0


@dataclass
class RejectRow:
    interface: str
    field: str
    code: str
    count: int


def _since(days: int) -> Any:
    return (timezone.now().astimezone(BEIJING) - timedelta(days=days - 1)).date()


def _interface_label(code: int) -> tuple[str, str]:
    iface = get_spec().by_ipc_code.get(code)
    return (iface.type, iface.name_zh) if iface else (f"0x{code:04X}", "")


def upload_stats(
    *, scope: ReadScope, days: int = 7, company: Company | None = None, environment: str = "production"
) -> list[StatRow]:
    """Per company and interface over the last ``days`` days (Beijing time)."""
    qs = UploadStat.objects.filter(day__gte=_since(days), environment=environment)
    qs = qs.filter(company__in=visible_companies(scope))
    if company is not None:
        qs = qs.filter(company=company)
    grouped = (
        qs.values("company_id", "company__supervision_company_id", "company__name", "interface")
        .annotate(
            s_batches=Sum("batches"),
            s_received=Sum("received"),
            s_accepted=Sum("accepted"),
            s_duplicates=Sum("duplicates"),
            s_rejected=Sum("rejected"),
            s_last=Max("last_received_at"),
            s_lag_count=Sum("lag_count"),
            s_lag_sum=Sum("lag_sum_seconds"),
            s_lag_max=Max("lag_max_seconds"),
        )
        .order_by("company__name", "interface")
    )
    rows = []
    for g in grouped:
        itype, iname = _interface_label(g["interface"])
        rows.append(
            StatRow(
                company_id=g["company__supervision_company_id"],
                company_name=g["company__name"],
                interface=itype,
                interface_name=iname,
                batches=g["s_batches"] or 0,
                received=g["s_received"] or 0,
                accepted=g["s_accepted"] or 0,
                duplicates=g["s_duplicates"] or 0,
                rejected=g["s_rejected"] or 0,
                last_received_at=g["s_last"],
                lag_avg_seconds=(g["s_lag_sum"] / g["s_lag_count"]) if g["s_lag_count"] else None,
                lag_max_seconds=g["s_lag_max"] or 0,
            )
        )
    return rows


def reject_stats(
    *, scope: ReadScope, days: int = 7, company: Company | None = None, environment: str = "production"
) -> list[RejectRow]:
    qs = RejectStat.objects.filter(day__gte=_since(days), environment=environment)
    qs = qs.filter(company__in=visible_companies(scope))
    if company is not None:
        qs = qs.filter(company=company)
    grouped = qs.values("interface", "field", "code").annotate(n=Sum("count")).order_by("-n", "interface")
    return [
        RejectRow(
            interface=_interface_label(g["interface"])[0], field=g["field"], code=g["code"], count=g["n"]
        )
        for g in grouped
    ]


@dataclass
class CompanyOverview:
    company_id: str
    company_name: str
    interfaces: int
    received: int
    accepted: int
    rejected: int
    last_received_at: datetime | None


def company_overview(rows: list[StatRow]) -> list[CompanyOverview]:
    out: dict[str, CompanyOverview] = {}
    for r in rows:
        o = out.get(r.company_id)
        if o is None:
            o = out[r.company_id] = CompanyOverview(r.company_id, r.company_name, 0, 0, 0, 0, None)
        o.interfaces += 1
        o.received += r.received
        o.accepted += r.accepted + r.duplicates
        o.rejected += r.rejected
        if r.last_received_at and (o.last_received_at is None or r.last_received_at > o.last_received_at):
            o.last_received_at = r.last_received_at
    return list(out.values())


# ---------------------------------------------------------------------------------------------
# base information
# ---------------------------------------------------------------------------------------------

BASE_KINDS = {"vehicles": "baseInfoVehicle", "drivers": "baseInfoDriver"}


@dataclass
class BaseItem:
    key: str
    flag: int
    update_time: datetime
    received_at: datetime
    record: dict[str, Any]


def base_current(
    *, scope: ReadScope, company: Company, kind: str, q: str = ""
) -> MappedQuerySet[BaseInfoCurrent, BaseItem]:
    """Current (not deleted) vehicles or drivers of a company by key, personal data masked; read a
    slice at a time (the API pages it with ``@paginate``, the staff page takes the first 100)."""
    if not scope.is_staff:
        raise PermissionDenied(ExchangeErrorCode.OUT_OF_SCOPE, _("This is for government staff only."))
    iface = get_spec().interface(BASE_KINDS[kind])
    qs = BaseInfoCurrent.objects.filter(company=company, interface=iface.ipc_type_code, deleted=False)
    bounds = scope.region_range()
    if bounds is not None and not str(company.region_code).startswith(scope.region_prefix or ""):
        qs = qs.filter(region_code__range=bounds)
    if q and kind == "drivers":
        # The key is the lookup_hash of the licence number: an exact look-up by the full number.
        qs = qs.filter(natural_key=personal_data.lookup_key(q))
    elif q:
        qs = qs.filter(natural_key__startswith=q)

    def items(rows: list[BaseInfoCurrent]) -> list[BaseItem]:
        out = []
        for row in rows:
            record = mask_record(iface.type, row.payload)
            out.append(
                BaseItem(
                    key=str(record.get("LicenseId", "")) if kind == "drivers" else row.natural_key,
                    flag=row.flag,
                    update_time=row.update_time,
                    received_at=row.received_at,
                    record=record,
                )
            )
        return out

    return MappedQuerySet(qs.order_by("natural_key"), items)


# ---------------------------------------------------------------------------------------------
# orders
# ---------------------------------------------------------------------------------------------

ORDER_INTERFACES = (
    "orderCreate",
    "orderMatch",
    "orderCancel",
    "operateDepart",
    "operateArrive",
    "operatePay",
    "ratedPassenger",
    "ratedPassengerComplaint",
)


@dataclass
class StoryEvent:
    interface: str
    name: str
    event_time: datetime
    received_at: datetime
    record: dict[str, Any]


@dataclass
class StoryPosition:
    time: datetime
    longitude: int
    latitude: int
    speed: int | None
    biz_status: int | None

    # The interface carries degrees x 10^6 (integers); people read degrees.
    @property
    def longitude_degrees(self) -> float:
        return self.longitude / 1e6

    @property
    def latitude_degrees(self) -> float:
        return self.latitude / 1e6


@dataclass
class OrderStory:
    order_id: str
    company_id: str
    status: str  # created / matched / departed / arrived / paid / cancelled
    events: list[StoryEvent] = field(default_factory=list)
    positions: list[StoryPosition] = field(default_factory=list)
    vehicle_no: str = ""

    def by_interface(self, interface: str) -> StoryEvent | None:
        return next((e for e in reversed(self.events) if e.interface == interface), None)


def _dt(value: Any) -> datetime | None:
    if type(value) is int and 10**13 <= value < 10**14:
        try:
            return datetime14_to_datetime(value)
        except ValueError:
            return None
    return None


def order_story(*, scope: ReadScope, company: Company, order_id: str) -> OrderStory:
    """Everything uploaded about one order: create, match, cancel or depart/arrive/pay, ratings,
    and the vehicle's positions between departure and arrival."""
    if not scope.is_staff:
        raise PermissionDenied(ExchangeErrorCode.OUT_OF_SCOPE, _("This is for government staff only."))
    spec = get_spec()
    codes = {spec.interface(t).ipc_type_code: t for t in ORDER_INTERFACES}
    rows = list(
        EventRecord.objects.filter(company=company, order_id=order_id, interface__in=list(codes)).order_by(
            "event_time", "id"
        )
    )
    if not rows:
        raise NotFound(ExchangeErrorCode.NOT_FOUND, _("No records of this order."))
    events = [
        StoryEvent(
            interface=codes[r.interface],
            name=spec.interface(codes[r.interface]).name_zh,
            event_time=r.event_time,
            received_at=r.received_at,
            record=mask_record(codes[r.interface], r.payload),
        )
        for r in rows
    ]
    story = OrderStory(
        order_id=order_id, company_id=company.supervision_company_id, status="created", events=events
    )
    seen = {e.interface for e in events}
    for status, iface in (
        ("matched", "orderMatch"),
        ("departed", "operateDepart"),
        ("arrived", "operateArrive"),
        ("paid", "operatePay"),
    ):
        if iface in seen:
            story.status = status
    if "orderCancel" in seen and "operateDepart" not in seen:
        story.status = "cancelled"
    create = story.by_interface("orderCreate")
    if scope.region_prefix and not (
        str(company.region_code).startswith(scope.region_prefix)
        or (create is not None and scope.covers_region(create.record.get("Address")))
    ):
        raise NotFound(ExchangeErrorCode.NOT_FOUND, _("No records of this order."))

    depart = story.by_interface("operateDepart")
    arrive = story.by_interface("operateArrive")
    match = story.by_interface("orderMatch")
    assigned = depart or match
    vehicle = assigned.record.get("VehicleNo", "") if assigned else ""
    story.vehicle_no = str(vehicle)
    start = _dt(depart.record.get("DepTime")) if depart else None
    end = _dt(arrive.record.get("DestTime")) if arrive else None
    if start and vehicle:
        end = end or start + timedelta(hours=6)
        positions = PositionRecord.objects.filter(
            company=company, interface=POSITION_VEHICLE, vehicle_no=vehicle, position_time__range=(start, end)
        )
        # lookup_hash of the driver's licence number, as PositionRecord stores it too
        license_id = next((r.license_id for r in reversed(rows) if r.license_id), "")
        if license_id and not positions.exists():
            positions = PositionRecord.objects.filter(
                company=company,
                interface=POSITION_DRIVER,
                license_id=license_id,
                position_time__range=(start, end),
            )
        story.positions = [
            StoryPosition(p.position_time, p.longitude, p.latitude, p.speed, p.biz_status)
            for p in positions.order_by("position_time")[:5000]
        ]
    return story


def recent_orders(*, scope: ReadScope, company: Company, limit: int = 30) -> list[dict[str, Any]]:
    if not scope.is_staff:
        raise PermissionDenied(ExchangeErrorCode.OUT_OF_SCOPE, _("This is for government staff only."))
    code = get_spec().interface("orderCreate").ipc_type_code
    rows = EventRecord.objects.filter(company=company, interface=code).order_by("-event_time")[:limit]
    return [
        {
            "order_id": r.order_id,
            "event_time": r.event_time,
            "departure": r.payload.get("Departure", ""),
            "destination": r.payload.get("Destination", ""),
        }
        for r in rows
    ]
