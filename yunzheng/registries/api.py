"""The registry feed for provincial systems: batches of rows, per-record errors
(docs/registry-import.md). Provincial systems call it as machines, with a registry-feed credential
(`Authorization: Bearer yzr_<key id>_<secret>`, confined to its region, audited as itself); staff
may call it with their session. Staff issue and revoke the credentials here too."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.security import HttpBearer

from yunzheng.accounts.credentials import (
    IssuedRegistryCredential,
    authenticate_registry_token,
    registry_credential_actor,
    registry_credential_issue,
    registry_credential_revoke,
    registry_credentials_for,
)
from yunzheng.accounts.models import RegistryCredential
from yunzheng.core.auth import current_staff, staff_auth
from yunzheng.core.bulk_import import ImportReport
from yunzheng.registries.importing import import_kind, registry_import_rows
from yunzheng.registries.licence_api import router as licence_router

router = Router(tags=["registries"])
router.add_router("/licences", licence_router)  # single operating-licence decisions
MAX_BATCH = 5000


class RegistryFeedAuth(HttpBearer):
    """A provincial system's registry-feed credential; unknown, wrong or revoked → 401."""

    def authenticate(self, request: HttpRequest, token: str) -> RegistryCredential | None:
        return authenticate_registry_token(token)


registry_feed_auth = RegistryFeedAuth()


class BatchIn(Schema):
    rows: list[dict[str, str | int | float | None]] = Field(max_length=MAX_BATCH)
    dry_run: bool = False


class RejectedOut(Schema):
    row: int
    field: str
    code: str
    message: str


class ReportOut(Schema):
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: list[RejectedOut]


class TemplateOut(Schema):
    kind: str
    columns: list[str]
    required: list[str]


class CredentialIn(Schema):
    name: str = Field(max_length=100)
    region_code: str = Field(max_length=6)


class CredentialOut(Schema):
    key_id: str
    name: str
    region_code: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class IssuedOut(CredentialOut):
    """A credential just issued (``IssuedRegistryCredential``): its token is shown this once."""

    token: str

    @staticmethod
    def resolve_key_id(issued: IssuedRegistryCredential) -> str:
        return issued.credential.key_id

    @staticmethod
    def resolve_name(issued: IssuedRegistryCredential) -> str:
        return issued.credential.name

    @staticmethod
    def resolve_region_code(issued: IssuedRegistryCredential) -> str:
        return issued.credential.region_code

    @staticmethod
    def resolve_created_at(issued: IssuedRegistryCredential) -> dt.datetime:
        return issued.credential.created_at

    @staticmethod
    def resolve_revoked_at(issued: IssuedRegistryCredential) -> dt.datetime | None:
        return issued.credential.revoked_at

    @staticmethod
    def resolve_last_used_at(issued: IssuedRegistryCredential) -> dt.datetime | None:
        return issued.credential.last_used_at


def _who(request: HttpRequest) -> dict[str, Any]:
    """Who imports: a registry-feed credential (its actor and region), or the staff member (the
    service checks `registry.import` of the permission table)."""
    credential = getattr(request, "auth", None)
    if isinstance(credential, RegistryCredential):
        return {"actor": registry_credential_actor(credential), "region_prefix": credential.region_prefix}
    return {"user": current_staff(request)}


@router.post(
    "/imports/{kind}",
    response=ReportOut,
    auth=[registry_feed_auth, staff_auth],
    summary="Import a batch of registry rows (idempotent by natural key; per-row errors)",
)
def import_batch(request: HttpRequest, kind: str, payload: BatchIn) -> ImportReport:
    report = registry_import_rows(
        kind=kind,
        rows=[{k: "" if v is None else str(v) for k, v in row.items()} for row in payload.rows],
        dry_run=payload.dry_run,
        **_who(request),
    )
    return report


@router.get(
    "/credentials", response=list[CredentialOut], auth=staff_auth, summary="Feed credentials of my region"
)
def credentials_list(request: HttpRequest) -> list[RegistryCredential]:
    return list(registry_credentials_for(current_staff(request)))


@router.post(
    "/credentials",
    response={201: IssuedOut},
    auth=staff_auth,
    summary="Issue a registry-feed credential to a provincial system (the token is shown once)",
)
def credential_issue(request: HttpRequest, payload: CredentialIn) -> Status:
    issued = registry_credential_issue(
        user=current_staff(request), name=payload.name, region_code=payload.region_code
    )
    return Status(201, issued)


@router.post(
    "/credentials/{key_id}/revoke",
    response=CredentialOut,
    auth=staff_auth,
    summary="Revoke a registry-feed credential",
)
def credential_revoke(request: HttpRequest, key_id: str) -> RegistryCredential:
    return registry_credential_revoke(user=current_staff(request), key_id=key_id)


@router.get("/imports/{kind}/template", response=TemplateOut, auth=None, summary="Columns of a kind")
def import_template(request: HttpRequest, kind: str) -> TemplateOut:
    chosen = import_kind(kind)
    return TemplateOut(kind=chosen.name, columns=list(chosen.columns), required=list(chosen.required))
