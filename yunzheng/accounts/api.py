"""JSON API of the accounts app, mounted by config/api.py at /api/v1/auth/.

For app and mini-program clients: request an SMS code, log in for a bearer token, complete
real-name verification (upload the ID photo, check the OCR prefill, submit), log out.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import logout
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, File, Router, Schema, Status, UploadedFile

from yunzheng.accounts import selectors, services
from yunzheng.accounts.auth import client_ip, user_auth
from yunzheng.accounts.models import RealNameVerification, User
from yunzheng.accounts.ocr import IdCardFields
from yunzheng.accounts.policies import current_policies
from yunzheng.core.auth import current_user
from yunzheng.core.crypto import mask_id_number, mask_name, mask_phone

router = Router(tags=["accounts"])


class PolicyOut(Schema):
    key: str
    version: str
    title: str
    url: str


class SmsCodeIn(Schema):
    phone: str = Field(max_length=32, examples=["13800000001"])
    agree: bool = Field(
        description="The user accepted the current user agreement and privacy policy (GET /policies)."
    )


class SmsCodeOut(Schema):
    masked_phone: str
    expires_in: int = Field(description="Seconds the code stays valid")
    resend_in: int = Field(description="Seconds before another code may be requested")


class LoginIn(Schema):
    phone: str = Field(max_length=32)
    code: str = Field(max_length=16)
    agree: bool
    client_name: str = Field(default="", max_length=100, description="e.g. 'WeChat mini-program'")


class UserOut(Schema):
    id: int
    phone: str = Field(description="Masked")
    real_name_status: str
    real_name: str = Field(description="Masked; empty until verified")
    id_number: str = Field(description="Masked; empty until verified")


class LoginOut(Schema):
    token: str
    token_type: str = "Bearer"  # noqa: S105  (the scheme name, not a secret)
    expires_at: dt.datetime
    created: bool = Field(description="True when this login created the account")
    user: UserOut


class PrefillOut(Schema):
    name: str
    sex: str
    ethnicity: str
    birth_date: dt.date | None
    address: str
    id_number: str


class PhotoOut(Schema):
    verification_id: int
    status: str
    prefill: PrefillOut


class SubmitIn(Schema):
    name: str = Field(max_length=40)
    sex: str = Field(max_length=1, description="M or F")
    ethnicity: str = Field(max_length=20)
    birth_date: dt.date
    address: str = Field(max_length=120)
    id_number: str = Field(max_length=32)


class VerificationOut(Schema):
    id: int
    status: str
    name: str = Field(description="Masked")
    id_number: str = Field(description="Masked")
    region_code: str
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    reason: str


class RealNameStatusOut(Schema):
    real_name_status: str
    latest: VerificationOut | None


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.pk,
        phone=mask_phone(user.phone) if user.phone else "",
        real_name_status=user.real_name_status,
        real_name=mask_name(user.real_name) if user.real_name else "",
        id_number=mask_id_number(user.id_number) if user.id_number else "",
    )


def _prefill_out(fields: IdCardFields) -> PrefillOut:
    return PrefillOut(
        name=fields.name,
        sex=fields.sex,
        ethnicity=fields.ethnicity,
        birth_date=fields.birth_date,
        address=fields.address,
        id_number=fields.id_number,
    )


def _verification_out(verification: RealNameVerification) -> VerificationOut:
    return VerificationOut(
        id=verification.pk,
        status=verification.status,
        name=mask_name(verification.name) if verification.name else "",
        id_number=mask_id_number(verification.id_number) if verification.id_number else "",
        region_code=verification.region_code,
        submitted_at=verification.submitted_at,
        reviewed_at=verification.reviewed_at,
        reason=verification.reason,
    )


@router.get("/policies", response=list[PolicyOut], auth=None, summary="Current agreement versions")
def policies(request: HttpRequest) -> list[PolicyOut]:
    return [
        PolicyOut(key=p.key, version=p.version, title=str(p.title), url=reverse(p.url_name))
        for p in current_policies()
    ]


@router.post("/sms-code", response=SmsCodeOut, auth=None, summary="Send a login code by SMS")
def request_sms_code(request: HttpRequest, payload: SmsCodeIn) -> SmsCodeOut:
    issued = services.sms_code_request(
        phone=payload.phone, client_ip=client_ip(request), agreed=payload.agree
    )
    return SmsCodeOut(
        masked_phone=issued.masked_phone,
        expires_in=issued.expires_in_seconds,
        resend_in=issued.resend_in_seconds,
    )


@router.post("/login", response=LoginOut, auth=None, summary="Log in (or sign up) with the SMS code")
def login_with_code(request: HttpRequest, payload: LoginIn) -> LoginOut:
    result = services.sms_login(
        phone=payload.phone, code=payload.code, client_ip=client_ip(request), agreed=payload.agree
    )
    issued = services.user_token_create(user=result.user, client_name=payload.client_name)
    return LoginOut(
        token=issued.token,
        expires_at=issued.record.expires_at,
        created=result.created,
        user=_user_out(result.user),
    )


@router.post(
    "/logout", response={204: None}, auth=user_auth, summary="Revoke this token (or end the session)"
)
def logout_api(request: HttpRequest) -> Status:
    token = getattr(request, "user_token", None)
    if token is not None:
        services.user_token_revoke(token=token)
    else:
        services.user_logout_recorded(user=current_user(request))
        logout(request)
    return Status(204, None)


@router.get("/me", response=UserOut, auth=user_auth, summary="The logged-in user (personal data masked)")
def me(request: HttpRequest) -> UserOut:
    return _user_out(current_user(request))


@router.get("/real-name", response=RealNameStatusOut, auth=user_auth, summary="Real-name status")
def realname_status(request: HttpRequest) -> RealNameStatusOut:
    user: User = current_user(request)
    latest = selectors.realname_latest_for_user(user=user)
    return RealNameStatusOut(
        real_name_status=user.real_name_status, latest=_verification_out(latest) if latest else None
    )


@router.post(
    "/real-name/photo",
    response=PhotoOut,
    auth=user_auth,
    summary="Upload the ID card's portrait side; returns the OCR prefill",
)
def realname_photo(request: HttpRequest, photo: File[UploadedFile]) -> PhotoOut:
    verification = services.realname_photo_upload(user=current_user(request), upload=photo)
    return PhotoOut(
        verification_id=verification.pk,
        status=verification.status,
        prefill=_prefill_out(selectors.realname_prefill(verification)),
    )


@router.post(
    "/real-name/{verification_id}/submit",
    response=VerificationOut,
    auth=user_auth,
    summary="Submit the checked fields",
)
def realname_submit(request: HttpRequest, verification_id: int, payload: SubmitIn) -> VerificationOut:
    verification = services.realname_verification_submit(
        user=current_user(request),
        verification_id=verification_id,
        submission=services.RealNameSubmission(
            name=payload.name,
            sex=payload.sex,
            ethnicity=payload.ethnicity,
            birth_date=payload.birth_date,
            address=payload.address,
            id_number=payload.id_number,
        ),
    )
    return _verification_out(verification)


@router.get(
    "/real-name/{verification_id}",
    response=VerificationOut,
    auth=user_auth,
    summary="One of your verifications",
)
def realname_detail(request: HttpRequest, verification_id: int) -> VerificationOut:
    verification = selectors.realname_verification_for_user(
        user=current_user(request),
        verification_id=verification_id,
    )
    return _verification_out(verification)
