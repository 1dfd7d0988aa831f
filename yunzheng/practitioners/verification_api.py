"""Information verification (核查) requests for certificates not found under a driver's ID number:
drivers file and follow them; staff of the issuing region accept and answer (2 working days).
Also the authority's decisions on a certificate (suspend, revoke, reinstate) as registry events."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from yunzheng.accounts.auth import user_auth
from yunzheng.accounts.permissions import authorize
from yunzheng.core.auth import current_staff, current_user, staff_auth
from yunzheng.practitioners import selectors, services
from yunzheng.practitioners.models import VerificationRequest

router = Router(tags=["office"])
# Authority decisions on the certificate registry, mounted at /api/v1/office/registry.
registry_router = Router(tags=["office"])


class RequestIn(Schema):
    certificate_number: str = Field(max_length=32)
    issuing_authority: str = Field(max_length=100)
    region_code: str = Field(max_length=6)


class AnswerIn(Schema):
    answer: str = Field(description="found | corrected | unchanged")
    note: str = Field("", max_length=500)


class RequestOut(Schema):
    id: int
    certificate_number: str
    issuing_authority: str
    region_code: str
    state: str
    submitted_at: dt.datetime
    accepted_at: dt.datetime | None
    due_on: dt.date | None
    # True while the date is counted on weekdays only (that year's holidays not yet confirmed).
    due_provisional: bool
    answer: str
    answer_note: str
    answered_at: dt.datetime | None


def _out(request: VerificationRequest) -> RequestOut:
    return RequestOut(
        id=request.pk,
        certificate_number=request.certificate_number,
        issuing_authority=request.issuing_authority,
        region_code=request.region_code,
        state=request.state,
        submitted_at=request.submitted_at,
        accepted_at=request.accepted_at,
        due_on=request.due_on,
        due_provisional=request.due_provisional,
        answer=request.answer,
        answer_note=request.answer_note,
        answered_at=request.answered_at,
    )


class DecisionIn(Schema):
    status: str = Field(description="suspended | revoked | valid (reinstate after a suspension)")
    reason: str = Field(max_length=500)


class DecisionOut(Schema):
    number: str
    status: str
    version: int


@registry_router.post(
    "/certificates/{number}/status",
    response=DecisionOut,
    auth=staff_auth,
    summary="Authority decision on a certificate: suspend, revoke, reinstate (the e-licence follows)",
)
def certificate_status(request: HttpRequest, number: str, payload: DecisionIn) -> DecisionOut:
    certificate = services.certificate_status_decide(
        number=number, status=payload.status, reason=payload.reason, staff=current_staff(request)
    )
    return DecisionOut(number=certificate.number, status=certificate.status, version=certificate.version)


@router.post("", response={201: RequestOut}, auth=user_auth, summary="Ask for a certificate to be found")
def file_request(request: HttpRequest, payload: RequestIn) -> Status[RequestOut]:
    filed = services.verification_request_file(
        applicant=current_user(request),
        certificate_number=payload.certificate_number,
        issuing_authority=payload.issuing_authority,
        region_code=payload.region_code,
    )
    return Status(201, _out(filed))


@router.get("", response=list[RequestOut], auth=user_auth, summary="My verification requests")
def my_requests(request: HttpRequest) -> list[RequestOut]:
    mine = selectors.verification_requests_of_applicant(user=current_user(request))
    return [_out(r) for r in mine[:100]]


@router.get("/staff", response=list[RequestOut], auth=staff_auth, summary="Requests of my region")
def staff_requests(request: HttpRequest, state: str = "") -> list[RequestOut]:
    scope = authorize(current_staff(request), services.REGISTRY_DECISION)  # those who answer
    queue = selectors.verification_requests_of_region(region_prefix=scope.region_prefix, state=state)
    return [_out(r) for r in queue[:200]]


@router.post(
    "/{request_id}/accept", response=RequestOut, auth=staff_auth, summary="Accept (the clock starts)"
)
def accept(request: HttpRequest, request_id: int) -> RequestOut:
    return _out(services.verification_request_accept(request=request_id, staff=current_staff(request)))


@router.post("/{request_id}/answer", response=RequestOut, auth=staff_auth, summary="Answer")
def answer(request: HttpRequest, request_id: int, payload: AnswerIn) -> RequestOut:
    return _out(
        services.verification_request_answer(
            request=request_id, staff=current_staff(request), answer=payload.answer, note=payload.note
        )
    )
