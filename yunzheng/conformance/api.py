"""JSON API of the conformance app, mounted by config/api.py at /api/v1/conformance/.

People authenticate with accounts' ``user_auth`` (bearer token or web session). Company members
run self-service campaigns of their companies; transport staff run official ones. The uploads
themselves go to the exchange interface (``POST /exchange/v1/...``) with a *sandbox* credential.

    GET  /campaigns                        campaigns the caller may see
    POST /campaigns                        {"company_id", "replay"}: start a self-service campaign
    POST /official-campaigns               {"company_id", "booking_id" | "reference"} (staff)
    GET  /campaigns/{id}                   one campaign with its cycles
    POST /campaigns/{id}/cycles            {"kind": "connectivity" | "consistency"}: open a cycle
    POST /campaigns/{id}/end               end a campaign without pass
    POST /cycles/{id}/close                close and grade a cycle
    GET  /cycles/{id}/report               the report (live while the cycle is open)
    GET  /spec/versions                    known spec versions
    GET  /spec/diff?old=&new=              what changed between two versions
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from yunzheng.accounts.auth import user_auth
from yunzheng.conformance import selectors, services
from yunzheng.conformance.error_codes import ConformanceErrorCode as Code
from yunzheng.conformance.models import Campaign, Cycle
from yunzheng.conformance.specversions import SpecVersion, load_version, spec_diff, spec_versions
from yunzheng.core.auth import current_user
from yunzheng.core.errors import NotFound

router = Router(tags=["conformance"])


class CycleOut(Schema):
    id: int
    number: int
    kind: str
    status: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None


class CampaignOut(Schema):
    id: int
    company_id: int
    company_name: str
    supervision_company_id: str
    kind: str
    status: str
    spec_version: str
    required_passes: int
    max_cycles: int | None
    replay: bool
    reference: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    certificate_number: str
    certificate_valid_until: dt.date | None
    cycles: list[CycleOut]

    @staticmethod
    def resolve_company_name(campaign: Campaign) -> str:
        return campaign.company.name

    @staticmethod
    def resolve_supervision_company_id(campaign: Campaign) -> str:
        return campaign.company.supervision_company_id

    @staticmethod
    def resolve_cycles(campaign: Campaign) -> Any:
        return campaign.cycles.order_by("number")


class SelfServiceIn(Schema):
    company_id: int
    replay: bool = False


class OfficialIn(Schema):
    company_id: int
    booking_id: int | None = None
    reference: str = ""


class CycleIn(Schema):
    kind: str


class SpecVersionOut(Schema):
    version: str
    title: str
    current: bool


@router.get("/campaigns", response=list[CampaignOut], auth=user_auth)
def campaigns(request: HttpRequest) -> list[Campaign]:
    return list(selectors.visible_campaigns(current_user(request))[:200])


@router.post("/campaigns", response={201: CampaignOut}, auth=user_auth)
def campaign_start(request: HttpRequest, payload: SelfServiceIn) -> Status:
    campaign = services.campaign_start_self_service(
        company_id=payload.company_id, user=current_user(request), replay=payload.replay
    )
    return Status(201, campaign)


@router.post("/official-campaigns", response={201: CampaignOut}, auth=user_auth)
def official_start(request: HttpRequest, payload: OfficialIn) -> Status:
    campaign = services.campaign_start_official(
        company_id=payload.company_id,
        user=current_user(request),
        booking_id=payload.booking_id,
        reference=payload.reference,
    )
    return Status(201, campaign)


@router.get("/campaigns/{campaign_id}", response=CampaignOut, auth=user_auth)
def campaign_detail(request: HttpRequest, campaign_id: int) -> Campaign:
    return selectors.campaign_for_user(user=current_user(request), campaign_id=campaign_id)


@router.post("/campaigns/{campaign_id}/cycles", response={201: CycleOut}, auth=user_auth)
def cycle_open(request: HttpRequest, campaign_id: int, payload: CycleIn) -> Status:
    user = current_user(request)
    campaign = selectors.campaign_for_user(user=user, campaign_id=campaign_id)
    return Status(201, services.cycle_open(campaign=campaign, kind=payload.kind, user=user))


@router.post("/campaigns/{campaign_id}/end", response=CampaignOut, auth=user_auth)
def campaign_end(request: HttpRequest, campaign_id: int) -> Campaign:
    user = current_user(request)
    campaign = selectors.campaign_for_user(user=user, campaign_id=campaign_id)
    return services.campaign_end(campaign=campaign, user=user)


@router.post("/cycles/{cycle_id}/close", response=CycleOut, auth=user_auth)
def cycle_close(request: HttpRequest, cycle_id: int) -> Cycle:
    user = current_user(request)
    cycle = selectors.cycle_for_user(user=user, cycle_id=cycle_id)
    return services.cycle_close(cycle=cycle, user=user)


@router.get("/cycles/{cycle_id}/report", auth=user_auth)
def cycle_report(request: HttpRequest, cycle_id: int) -> dict[str, Any]:
    """The report as stored (codes and parameters; examples and hints are not rendered)."""
    cycle = selectors.cycle_for_user(user=current_user(request), cycle_id=cycle_id)
    report = selectors.cycle_report(cycle)
    report["status"] = cycle.status
    return report


@router.get("/spec/versions", response=list[SpecVersionOut], auth=user_auth)
def versions(request: HttpRequest) -> list[SpecVersion]:
    return list(spec_versions())


@router.get("/spec/diff", auth=user_auth)
def diff(request: HttpRequest, old: str, new: str) -> dict[str, Any]:
    old_spec, new_spec = load_version(old), load_version(new)
    if old_spec is None or new_spec is None:
        raise NotFound(Code.SPEC_VERSION_UNKNOWN, _("Unknown spec version."))
    result = spec_diff(old_spec, new_spec)
    return {**dataclasses.asdict(result), "adjusted_interfaces": result.adjusted_interfaces}
