"""Single decisions on platform operating licences (网络预约出租汽车经营许可证) by API, mounted at
/api/v1/registries/licences: issue, change, renew, suspend, reinstate, revoke, cancel, and read one.

The same services as the staff licence page (licensing.services.operating_licences): each checks
`registry.operating_licence.maintain` for the licence's city, writes the registry event and its
audit entry, and keeps the company's electronic licence and the ministry index in step. Schemas
reject malformed input (422, the field named); the services answer the rest: 403 (permission
table), 404 (no such licence or company), 409 (a transition the licence's status does not allow,
e.g. renewing a revoked licence — revocation and cancellation are final)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from yunzheng.core.auth import current_staff, staff_auth
from yunzheng.licensing import services as licensing_services
from yunzheng.licensing.models import OperatingLicence
from yunzheng.registries import selectors

router = Router(tags=["registries"])

REGION_CODE = r"^\d{6}$"


class LicenceIssueIn(Schema):
    credit_code: str = Field(min_length=18, max_length=18, description="the licensed company's credit code")
    kind: Literal["national", "local"] = Field(description="national (经营许可证) | local (地牌)")
    number: str = Field("", max_length=40, description="an existing licence's number; empty: numbered")
    scope: str = Field(min_length=1, max_length=200, description="business scope")
    area: str = Field(min_length=1, max_length=200, description="operating area")
    city_code: str = Field(pattern=REGION_CODE, description="GB/T 2260 code of the issuing city")
    valid_from: dt.date
    valid_until: dt.date


class LicenceChangeIn(Schema):
    scope: str | None = Field(None, min_length=1, max_length=200, description="new business scope")
    area: str | None = Field(None, min_length=1, max_length=200, description="new operating area")
    reason: str = Field(min_length=1, max_length=500)


class LicenceRenewIn(Schema):
    valid_until: dt.date = Field(description="the new end of validity (after the current one)")
    reason: str = Field("", max_length=500)


class LicenceDecisionIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


class LicenceOut(Schema):
    number: str
    company_credit_code: str
    company_name: str
    kind: str
    scope: str
    area: str
    city_code: str
    valid_from: dt.date
    valid_until: dt.date
    status: str
    version: int
    electronic_licence_id: str


def _out(licence: OperatingLicence) -> LicenceOut:
    return LicenceOut(
        number=licence.number,
        company_credit_code=licence.company.credit_code,
        company_name=licence.company.name,
        kind=licence.kind,
        scope=licence.scope,
        area=licence.area,
        city_code=licence.city_code,
        valid_from=licence.valid_from,
        valid_until=licence.valid_until,
        status=licence.status,
        version=licence.version,
        electronic_licence_id=licence.electronic_licence_id,
    )


@router.get("/{number}", response=LicenceOut, auth=staff_auth, summary="An operating licence of my region")
def licence_get(request: HttpRequest, number: str) -> LicenceOut:
    return _out(selectors.operating_licence(user=current_staff(request), number=number))


@router.post(
    "",
    response={201: LicenceOut},
    auth=staff_auth,
    summary="Issue (enter) an operating licence of my city; the electronic licence follows",
)
def licence_issue(request: HttpRequest, payload: LicenceIssueIn) -> Status[LicenceOut]:
    licence = licensing_services.operating_licence_issue(
        company=selectors.company_by_credit_code(payload.credit_code),
        kind=payload.kind,
        number=payload.number,
        scope=payload.scope,
        area=payload.area,
        city_code=payload.city_code,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        staff=current_staff(request),
    )
    return Status(201, _out(licence))


@router.post("/{number}/change", response=LicenceOut, auth=staff_auth, summary="Change the scope or area")
def licence_change(request: HttpRequest, number: str, payload: LicenceChangeIn) -> LicenceOut:
    licence = licensing_services.operating_licence_change(
        number=number,
        staff=current_staff(request),
        scope=payload.scope,
        area=payload.area,
        reason=payload.reason,
    )
    return _out(licence)


@router.post("/{number}/renew", response=LicenceOut, auth=staff_auth, summary="Extend the validity")
def licence_renew(request: HttpRequest, number: str, payload: LicenceRenewIn) -> LicenceOut:
    licence = licensing_services.operating_licence_renew(
        number=number, staff=current_staff(request), valid_until=payload.valid_until, reason=payload.reason
    )
    return _out(licence)


@router.post("/{number}/suspend", response=LicenceOut, auth=staff_auth, summary="Suspend a valid licence")
def licence_suspend(request: HttpRequest, number: str, payload: LicenceDecisionIn) -> LicenceOut:
    staff = current_staff(request)
    return _out(
        licensing_services.operating_licence_suspend(number=number, staff=staff, reason=payload.reason)
    )


@router.post(
    "/{number}/reinstate", response=LicenceOut, auth=staff_auth, summary="Reinstate a suspended licence"
)
def licence_reinstate(request: HttpRequest, number: str, payload: LicenceDecisionIn) -> LicenceOut:
    staff = current_staff(request)
    return _out(
        licensing_services.operating_licence_reinstate(number=number, staff=staff, reason=payload.reason)
    )


@router.post("/{number}/revoke", response=LicenceOut, auth=staff_auth, summary="Revoke a licence (final)")
def licence_revoke(request: HttpRequest, number: str, payload: LicenceDecisionIn) -> LicenceOut:
    staff = current_staff(request)
    return _out(
        licensing_services.operating_licence_revoke(number=number, staff=staff, reason=payload.reason)
    )


@router.post("/{number}/cancel", response=LicenceOut, auth=staff_auth, summary="Cancel a licence (final)")
def licence_cancel(request: HttpRequest, number: str, payload: LicenceDecisionIn) -> LicenceOut:
    staff = current_staff(request)
    return _out(
        licensing_services.operating_licence_cancel(number=number, staff=staff, reason=payload.reason)
    )
