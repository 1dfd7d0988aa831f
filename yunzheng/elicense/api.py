"""JSON API of the elicense app, mounted by config/api.py at /api/v1/elicense/.

Public: verify, share-code redemption, the trust list. Holders (user_auth): their licences, QR
payloads, downloads, share codes, traffic-pass applications. Staff (session with a verified second
factor and a StaffProfile): the ministry index, the pass queue and decisions, licence status
changes, consistency reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from yunzheng.accounts.auth import client_ip, user_auth
from yunzheng.accounts.scopes import region_name
from yunzheng.core.audit import Actor
from yunzheng.core.auth import current_staff, current_user, staff_auth
from yunzheng.core.crypto import mask_name
from yunzheng.core.errors import NotFound
from yunzheng.elicense import rendering, selectors, services
from yunzheng.elicense.consistency import sync_check_run
from yunzheng.elicense.models import (
    ElectronicLicence,
    MinistryIndexEntry,
    TrafficPassApplication,
    VerificationAttempt,
)
from yunzheng.elicense.qr_payload import Claims
from yunzheng.elicense.rendering import public_base_url
from yunzheng.elicense.traffic_passes import (
    PassRequest,
    traffic_pass_apply,
    traffic_pass_approve,
    traffic_pass_data_review,
    traffic_pass_reject,
    traffic_pass_revoke,
    traffic_pass_withdraw,
)
from yunzheng.elicense.verification_texts import result_message

router = Router(tags=["elicense"])


# --------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------


class VerifyIn(Schema):
    payload: str = Field(max_length=4000, description='The scanned text: "YZ1:..." or a verification link.')


class VerifiedLicenceOut(Schema):
    id: str
    type: str
    type_label: str
    issuer_region: str
    issuer_name: str
    valid_from: dt.date
    valid_until: dt.date
    version: int
    current_version: int | None = None
    essentials: dict[str, str | list[str]]


class VerifyOut(Schema):
    result: str
    reason_code: str
    message: str
    licence: VerifiedLicenceOut | None = None
    checked_at: dt.datetime


class RowOut(Schema):
    label: str
    value: str


class SharedLicenceOut(Schema):
    shared_with: str
    licence_id: str
    status: str
    rows: list[RowOut]


class ShareRedeemIn(Schema):
    code: str = Field(max_length=40)


class ShareCodeIn(Schema):
    recipient_name: str = Field(max_length=100)


class ShareCodeCreatedOut(Schema):
    code: str
    recipient_name: str
    expires_at: dt.datetime


class ShareCodeOut(Schema):
    id: int
    recipient_name: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None
    state: str


class _LicenceKeyOut(Schema):
    """A licence's id and type, from an ElectronicLicence or its ministry index entry."""

    id: str
    type: str

    @staticmethod
    def resolve_id(licence: ElectronicLicence | MinistryIndexEntry) -> str:
        return licence.lid

    @staticmethod
    def resolve_type(licence: ElectronicLicence | MinistryIndexEntry) -> str:
        return licence.licence_type


class LicenceOut(_LicenceKeyOut):
    type_label: str
    status: str
    version: int
    holder: str
    issuer_region: str
    valid_from: dt.date
    valid_until: dt.date
    updated_at: dt.datetime

    @staticmethod
    def resolve_type_label(licence: ElectronicLicence) -> str:
        return str(licence.get_licence_type_display())

    @staticmethod
    def resolve_holder(licence: ElectronicLicence) -> str:
        return licence.holder_name


class StaffLicenceOut(LicenceOut):
    """A licence after a staff status change: `elicense.licence.status` needs no personal data in
    full, so the holder's name comes masked."""

    @staticmethod
    def resolve_holder(licence: ElectronicLicence) -> str:
        return mask_name(licence.holder_name)


class LicenceEventOut(Schema):
    version: int
    kind: str
    from_status: str
    to_status: str
    at: dt.datetime
    reason: str


class LicenceDetailOut(LicenceOut):
    rows: list[RowOut]
    events: list[LicenceEventOut]
    share_codes: list[ShareCodeOut]

    @staticmethod
    def resolve_rows(licence: ElectronicLicence) -> list[rendering.Row]:
        return rendering.licence_rows(licence, full=True)

    @staticmethod
    def resolve_events(licence: ElectronicLicence) -> Any:
        return licence.events.all()

    @staticmethod
    def resolve_share_codes(licence: ElectronicLicence) -> list[ShareCodeOut]:
        now = timezone.now()
        return [_share_out(s, now) for s in selectors.share_codes_for_licence(licence=licence)]


class QrOut(Schema):
    payload: str
    qr_text: str
    kid: str
    qr_version: int
    payload_chars: int


class ReasonIn(Schema):
    reason: str = Field(default="", max_length=1000)


class PassApplyIn(Schema):
    plate_number: str = Field(max_length=20)
    pass_type: str
    road_sections: list[str] = Field(max_length=20)
    time_windows: list[str] = Field(max_length=10)
    valid_from: dt.date
    valid_until: dt.date
    vehicle_task: str = Field(default="", max_length=32)
    no_alternative_route: bool = False
    company_id: int | None = None


class TransitionOut(Schema):
    from_status: str
    to_status: str
    actor: str
    reason: str
    at: dt.datetime


class PassOut(Schema):
    id: int
    reference: str
    status: str
    status_label: str
    plate_number: str
    pass_type: str
    road_sections: list[str]
    time_windows: list[str]
    valid_from: dt.date
    valid_until: dt.date
    pass_type_name: str
    vehicle_task: str
    no_alternative_route: bool
    materials: list[str]
    submitted_at: dt.datetime
    data_reviewed_at: dt.datetime | None
    due_date: dt.date | None
    # True while the date is counted on weekdays only (that year's holidays not yet confirmed).
    due_date_provisional: bool
    overdue: bool
    suspension_reason: str
    decision_reason: str
    licence_id: str | None
    transitions: list[TransitionOut]


class IndexEntryOut(_LicenceKeyOut):
    issuer_province: str
    issuer_region: str
    status: str
    version: int
    valid_from: dt.date
    valid_until: dt.date
    updated_at: dt.datetime


class SyncReportOut(Schema):
    run_id: int
    started_at: dt.datetime
    counts: dict[str, int]
    mismatches: list[dict[str, Any]]
    provinces: list[dict[str, Any]]


# --------------------------------------------------------------------------------------------
# Shaping answers
# --------------------------------------------------------------------------------------------


def _verified_licence(claims: Claims, licence: ElectronicLicence | None) -> VerifiedLicenceOut:
    from yunzheng.elicense.qr_payload import ESSENTIAL_KEYS

    type_label = str(ElectronicLicence(licence_type=claims.licence_type).get_licence_type_display())
    return VerifiedLicenceOut(
        id=claims.lid,
        type=claims.licence_type,
        type_label=type_label,
        issuer_region=claims.iss,
        issuer_name=region_name(claims.iss),
        valid_from=claims.valid_from,
        valid_until=claims.valid_until,
        version=claims.ver,
        current_version=licence.version if licence is not None else None,
        essentials={ESSENTIAL_KEYS.get(k, k): v for k, v in claims.ess.items()},
    )


def verify_answer(outcome: services.VerificationOutcome) -> VerifyOut:
    return VerifyOut(
        result=outcome.result,
        reason_code=outcome.reason_code,
        message=result_message(outcome.result, outcome.reason_code),
        licence=_verified_licence(outcome.claims, outcome.licence) if outcome.claims is not None else None,
        checked_at=timezone.now(),
    )


def _share_out(share: Any, now: dt.datetime) -> ShareCodeOut:
    return ShareCodeOut(
        id=share.pk,
        recipient_name=share.recipient_name,
        created_at=share.created_at,
        expires_at=share.expires_at,
        used_at=share.used_at,
        state=selectors.share_code_state(share, now=now),
    )


def _pass_out(application: TrafficPassApplication) -> PassOut:
    return PassOut(
        id=application.pk,
        reference=application.reference,
        status=application.status,
        status_label=str(application.get_status_display()),
        plate_number=application.plate_number,
        pass_type=application.pass_type,
        road_sections=list(application.road_sections),
        time_windows=list(application.time_windows),
        valid_from=application.valid_from,
        valid_until=application.valid_until,
        pass_type_name=application.pass_type_name,
        vehicle_task=application.vehicle_task,
        no_alternative_route=application.no_alternative_route,
        materials=[m.title for m in application.materials.all()],
        submitted_at=application.submitted_at,
        data_reviewed_at=application.data_reviewed_at,
        due_date=application.due_date,
        due_date_provisional=application.due_date_provisional,
        overdue=selectors.is_overdue(application),
        suspension_reason=application.suspension_reason,
        decision_reason=application.decision_reason,
        licence_id=application.licence.lid if application.licence_id and application.licence else None,
        transitions=[
            TransitionOut(
                from_status=t.from_status,
                to_status=t.to_status,
                actor=t.actor_label,
                reason=t.reason,
                at=t.at,
            )
            for t in application.transitions.all()
        ],
    )


# --------------------------------------------------------------------------------------------
# Public
# --------------------------------------------------------------------------------------------


@router.post("/verify", response=VerifyOut, summary="Verify a scanned licence QR (online, live status)")
def verify(request: HttpRequest, payload: VerifyIn) -> VerifyOut:
    outcome = services.verification_verify(
        text=payload.payload, client_ip=client_ip(request), channel=VerificationAttempt.Channel.API
    )
    return verify_answer(outcome)


@router.post(
    "/share/redeem", response=SharedLicenceOut, summary="See a licence in full with a one-time share code"
)
def share_redeem(request: HttpRequest, payload: ShareRedeemIn) -> SharedLicenceOut:
    share = services.share_code_redeem(
        code=payload.code, client_ip=client_ip(request), channel=VerificationAttempt.Channel.API
    )
    licence = share.licence
    return SharedLicenceOut(
        shared_with=share.recipient_name,
        licence_id=licence.lid,
        status=licence.status,
        rows=[
            RowOut(label=r.label, value=r.value)
            for r in rendering.licence_rows(licence, full=True, full_id=True)
        ],
    )


@router.get("/trust-list", summary="The signed trust list for offline verifiers")
def trust_list(request: HttpRequest) -> dict[str, str]:
    return services.trust_list_issue()


@router.get("/trust-list/root", summary="The ministry root key that signs the trust list")
def trust_list_root(request: HttpRequest) -> dict[str, str]:
    from yunzheng.core.crypto import sm2_public_key_pem

    key = services.root_key()
    return {
        "kid": key.kid,
        "public_key": key.public_key_hex,
        "public_key_pem": sm2_public_key_pem(key.public_key_hex),
        "fingerprint_sm3": key.fingerprint,
    }


# --------------------------------------------------------------------------------------------
# Holders
# --------------------------------------------------------------------------------------------


@router.get("/licences", response=list[LicenceOut], auth=user_auth, summary="My electronic licences")
def my_licences(request: HttpRequest) -> list[ElectronicLicence]:
    return list(selectors.licences_for_user(user=current_user(request)))


@router.get("/licences/{lid}", response=LicenceDetailOut, auth=user_auth, summary="One of my licences")
def my_licence(request: HttpRequest, lid: str) -> ElectronicLicence:
    user = current_user(request)
    licence = selectors.licence_for_holder(user=user, lid=lid)
    services.licence_record_activation(licence=licence, user=user)
    return licence


@router.get("/licences/{lid}/qr", response=QrOut, auth=user_auth, summary="A freshly signed QR payload")
def my_licence_qr(request: HttpRequest, lid: str) -> QrOut:
    user = current_user(request)
    licence = selectors.licence_for_holder(user=user, lid=lid)
    signed = services.licence_sign(licence=licence)
    services.licence_record_activation(licence=licence, user=user)
    qr_text = signed.qr_text(public_base_url(request))
    return QrOut(
        payload=signed.text,
        qr_text=qr_text,
        kid=signed.kid,
        qr_version=int(rendering.make_qr(qr_text).version),
        payload_chars=len(signed.text),
    )


def _download(request: HttpRequest, lid: str, kind: str) -> HttpResponse:
    user = current_user(request)
    licence = selectors.licence_for_holder(user=user, lid=lid)
    signed = services.licence_sign(licence=licence)
    services.licence_record_activation(licence=licence, user=user)
    return rendering.licence_download(licence, signed, base_url=public_base_url(request), kind=kind)


@router.get("/licences/{lid}/png", auth=user_auth, summary="Download as PNG")
def my_licence_png(request: HttpRequest, lid: str) -> HttpResponse:
    return _download(request, lid, "png")


@router.get("/licences/{lid}/pdf", auth=user_auth, summary="Download as PDF")
def my_licence_pdf(request: HttpRequest, lid: str) -> HttpResponse:
    return _download(request, lid, "pdf")


@router.post(
    "/licences/{lid}/share-codes",
    response={201: ShareCodeCreatedOut},
    auth=user_auth,
    summary="Create a share code",
)
def create_share_code(request: HttpRequest, lid: str, payload: ShareCodeIn) -> Status:
    user = current_user(request)
    licence = selectors.licence_for_holder(user=user, lid=lid)
    issued = services.share_code_create(licence=licence, user=user, recipient_name=payload.recipient_name)
    return Status(
        201,
        ShareCodeCreatedOut(
            code=issued.display,
            recipient_name=issued.share.recipient_name,
            expires_at=issued.share.expires_at,
        ),
    )


@router.get(
    "/licences/{lid}/share-codes", response=list[ShareCodeOut], auth=user_auth, summary="Share codes and uses"
)
def list_share_codes(request: HttpRequest, lid: str) -> list[ShareCodeOut]:
    licence = selectors.licence_for_holder(user=current_user(request), lid=lid)
    now = timezone.now()
    return [_share_out(s, now) for s in selectors.share_codes_for_licence(licence=licence)]


# --------------------------------------------------------------------------------------------
# Traffic passes: applicants
# --------------------------------------------------------------------------------------------


@router.post("/traffic-passes", response={201: PassOut}, auth=user_auth, summary="Apply for a traffic pass")
def apply_for_pass(request: HttpRequest, payload: PassApplyIn) -> Status:
    from yunzheng.accounts.selectors import company_for_member

    user = current_user(request)
    company = company_for_member(user=user, company_id=payload.company_id) if payload.company_id else None
    application = traffic_pass_apply(
        user=user,
        company=company,
        request=PassRequest(
            plate_number=payload.plate_number,
            pass_type=payload.pass_type,
            road_sections=payload.road_sections,
            time_windows=payload.time_windows,
            valid_from=payload.valid_from,
            valid_until=payload.valid_until,
            vehicle_task=payload.vehicle_task,
            no_alternative_route=payload.no_alternative_route,
        ),
    )
    return Status(201, _pass_out(application))


@router.get("/traffic-passes", response=list[PassOut], auth=user_auth, summary="My traffic pass applications")
def my_passes(request: HttpRequest) -> list[PassOut]:
    return [
        _pass_out(a)
        for a in selectors.applications_for_user(user=current_user(request)).prefetch_related("transitions")
    ]


@router.get(
    "/traffic-passes/{application_id}", response=PassOut, auth=user_auth, summary="Progress of an application"
)
def my_pass(request: HttpRequest, application_id: int) -> PassOut:
    return _pass_out(
        selectors.application_for_user(user=current_user(request), application_id=application_id)
    )


@router.post(
    "/traffic-passes/{application_id}/withdraw",
    response=PassOut,
    auth=user_auth,
    summary="Withdraw an application",
)
def withdraw_pass(request: HttpRequest, application_id: int, payload: ReasonIn) -> PassOut:
    user = current_user(request)
    application = selectors.application_for_user(user=user, application_id=application_id)
    return _pass_out(traffic_pass_withdraw(application=application, user=user, reason=payload.reason))


# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


@router.get("/staff/traffic-passes", response=list[PassOut], auth=staff_auth, summary="Pass queue (staff)")
def pass_queue(request: HttpRequest, status: str = "submitted", overdue: bool = False) -> list[PassOut]:
    staff = current_staff(request)
    queue = selectors.application_queue(staff_user=staff, status=status, overdue_only=overdue)
    return [_pass_out(a) for a in queue.prefetch_related("transitions")[:200]]


@router.post(
    "/staff/traffic-passes/{application_id}/data-review",
    response=PassOut,
    auth=staff_auth,
    summary="Pass the data review",
)
def data_review_pass(request: HttpRequest, application_id: int, payload: ReasonIn) -> PassOut:
    staff = current_staff(request)
    application = selectors.application_for_staff(staff_user=staff, application_id=application_id)
    return _pass_out(
        traffic_pass_data_review(application=application, staff_user=staff, reason=payload.reason)
    )


@router.post(
    "/staff/traffic-passes/{application_id}/approve", response=PassOut, auth=staff_auth, summary="Approve"
)
def approve_pass(request: HttpRequest, application_id: int, payload: ReasonIn) -> PassOut:
    staff = current_staff(request)
    application = selectors.application_for_staff(staff_user=staff, application_id=application_id)
    return _pass_out(traffic_pass_approve(application=application, staff_user=staff, reason=payload.reason))


@router.post(
    "/staff/traffic-passes/{application_id}/reject", response=PassOut, auth=staff_auth, summary="Reject"
)
def reject_pass(request: HttpRequest, application_id: int, payload: ReasonIn) -> PassOut:
    staff = current_staff(request)
    application = selectors.application_for_staff(staff_user=staff, application_id=application_id)
    return _pass_out(traffic_pass_reject(application=application, staff_user=staff, reason=payload.reason))


@router.post(
    "/staff/traffic-passes/{application_id}/revoke", response=PassOut, auth=staff_auth, summary="Revoke"
)
def revoke_pass(request: HttpRequest, application_id: int, payload: ReasonIn) -> PassOut:
    staff = current_staff(request)
    application = selectors.application_for_staff(staff_user=staff, application_id=application_id)
    return _pass_out(traffic_pass_revoke(application=application, staff_user=staff, reason=payload.reason))


@router.post(
    "/staff/licences/{lid}/{action}",
    response=StaffLicenceOut,
    auth=staff_auth,
    summary="Revoke/suspend/reinstate",
)
def change_licence_status(
    request: HttpRequest, lid: str, action: str, payload: ReasonIn
) -> ElectronicLicence:
    staff = current_staff(request)
    licence = selectors.licence_for_staff(staff_user=staff, lid=lid)
    change = services.LICENCE_STATUS_CHANGES.get(action)
    if change is None:
        raise NotFound("not_found", _("Not found."))
    return change(licence=licence, actor=Actor.for_user(staff), reason=payload.reason, staff_user=staff)


@router.get(
    "/index", response=list[IndexEntryOut], auth=staff_auth, summary="The ministry-level licence index"
)
def index(
    request: HttpRequest,
    lid: str = "",
    holder_id_number: str = "",
    province: str = "",
    type: str = "",
    status: str = "",
) -> list[MinistryIndexEntry]:
    staff = current_staff(request)
    if holder_id_number:
        services.index_record_id_search(staff_user=staff)
    entries = selectors.index_search(
        staff_user=staff,
        query=selectors.IndexQuery(
            lid=lid, holder_id_number=holder_id_number, province=province, licence_type=type, status=status
        ),
    )
    return list(entries)


def _report_out(report: selectors.ScopedSyncReport) -> SyncReportOut:
    return SyncReportOut(
        run_id=report.run.pk,
        started_at=report.run.started_at,
        counts=report.counts,
        mismatches=report.mismatches,
        provinces=report.provinces,
    )


@router.get(
    "/sync-report",
    response={200: SyncReportOut, 204: None},
    auth=staff_auth,
    summary="Latest consistency check",
)
def sync_report(request: HttpRequest) -> Status | SyncReportOut:
    report = selectors.latest_sync_report(staff_user=current_staff(request))
    return Status(204, None) if report is None else _report_out(report)


@router.post("/sync-check", response=SyncReportOut, auth=staff_auth, summary="Run the consistency check now")
def run_sync_check(request: HttpRequest) -> SyncReportOut:
    staff = current_staff(request)
    run = sync_check_run(actor=Actor.for_user(staff))
    return _report_out(selectors.scoped_sync_report(run=run, staff_user=staff))
