"""Machine API credentials: creation, authentication, revocation. Two kinds share one token
scheme: a company's upload credential (`yz_<key id>_<secret>`, the exchange) and a provincial
system's registry-feed credential (`yzr_<key id>_<secret>`, the registries API).

The key id finds the row through a unique index, the secret (32 random bytes) is compared by SM3
hash in constant time. Secrets are high-entropy, so a fast hash is enough (no password-style
stretching, which would slow every upload request).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company, CompanyCredential, RegistryCredential, User
from yunzheng.accounts.permissions import authorize
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.crypto import sm3_hex
from yunzheng.core.errors import NotFound, ValidationFailed
from yunzheng.core.ids import region_code_exists

TOKEN_PREFIX = "yz"  # noqa: S105  (a public prefix, not a secret)
REGISTRY_TOKEN_PREFIX = "yzr"  # noqa: S105  (a public prefix, not a secret)


@dataclass(frozen=True)
class IssuedCredential:
    credential: CompanyCredential
    token: str  # shown once; never stored


def _hash_secret(secret: str) -> str:
    return sm3_hex(secret.encode("ascii"))


def company_credential_create(
    *,
    company: Company,
    name: str,
    environment: str = CompanyCredential.Environment.PRODUCTION,
    created_by: User | None = None,
) -> IssuedCredential:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        credential = CompanyCredential.objects.create(
            company=company,
            name=name,
            environment=environment,
            key_id=key_id,
            secret_hash=_hash_secret(secret),
            created_by=created_by,
        )
        record_audit(
            actor=Actor.for_user(created_by) if created_by else Actor.system("manage.py"),
            action="company.credential.create",
            target_type="company",
            target_id=company.pk,
            after={"key_id": key_id, "name": name, "environment": environment},
        )
    return IssuedCredential(credential=credential, token=f"{TOKEN_PREFIX}_{key_id}_{secret}")


def company_credential_revoke(*, credential: CompanyCredential, revoked_by: User | None) -> CompanyCredential:
    with transaction.atomic():
        locked = CompanyCredential.objects.select_for_update().get(pk=credential.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            record_audit(
                actor=Actor.for_user(revoked_by) if revoked_by else Actor.system(),
                action="company.credential.revoke",
                target_type="company",
                target_id=locked.company_id,
                after={"key_id": locked.key_id},
            )
    return locked


def _split_token(token: str, expected_prefix: str) -> tuple[str, str] | None:
    """(key id, secret) of a `<prefix>_<key id>_<secret>` token, or None when it is not one."""
    prefix, _sep, rest = token.partition("_")
    key_id, _sep, secret = rest.partition("_")
    if prefix != expected_prefix or not key_id or not secret or not secret.isascii():
        return None
    return key_id, secret


def _secret_matches(secret_hash: str, secret: str) -> bool:
    return hmac.compare_digest(secret_hash, _hash_secret(secret))


def authenticate_company_token(token: str) -> CompanyCredential | None:
    """The active credential a bearer token belongs to (with its company loaded), or None."""
    parts = _split_token(token, TOKEN_PREFIX)
    if parts is None:
        return None
    credential = (
        CompanyCredential.objects.select_related("company")
        .filter(key_id=parts[0], revoked_at__isnull=True)
        .first()
    )
    if credential is None or not _secret_matches(credential.secret_hash, parts[1]):
        return None
    return credential


# --------------------------------------------------------------------------------------------
# Registry-feed credentials of provincial systems
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedRegistryCredential:
    credential: RegistryCredential
    token: str  # shown once; never stored


def registry_credential_actor(credential: RegistryCredential) -> Actor:
    """Who the audit trail names for a provincial system's writes: the credential itself."""
    return Actor(
        kind="system",
        id=f"registry_credential:{credential.pk}",
        label=f"registry feed {credential.key_id} ({credential.name[:60]}, {credential.region_code})",
    )


def registry_credential_issue(
    *, user: User, name: str, region_code: str, now: dt.datetime | None = None
) -> IssuedRegistryCredential:
    """Issue a credential to a provincial (or city) system; staff may issue only within their
    region (permission table: `registry.credential.manage`). The token is returned once."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed.single(
            field="name",
            code="credential.name_required",
            message=_("Name the system (at most 100 characters)."),
        )
    if not region_code_exists(region_code):
        raise ValidationFailed.single(
            field="region_code", code="region.unknown", message=_("This is not a GB/T 2260 region code.")
        )
    authorize(user, "registry.credential.manage", region_code=region_code)
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        credential = RegistryCredential.objects.create(
            name=name,
            region_code=region_code,
            key_id=key_id,
            secret_hash=_hash_secret(secret),
            created_at=now or timezone.now(),
            created_by=user,
        )
        record_audit(
            actor=Actor.for_user(user),
            action="registry.credential.issue",
            target_type="registry_credential",
            target_id=credential.pk,
            after={"key_id": key_id, "name": name, "region_code": region_code},
        )
    return IssuedRegistryCredential(credential, f"{REGISTRY_TOKEN_PREFIX}_{key_id}_{secret}")


def registry_credential_revoke(
    *, user: User, key_id: str, now: dt.datetime | None = None
) -> RegistryCredential:
    """Revoke a credential of the staff member's region; its token is refused from now on."""
    with transaction.atomic():
        credential = RegistryCredential.objects.select_for_update().filter(key_id=key_id).first()
        if credential is None:
            raise NotFound("credential.not_found", _("No such credential."))
        authorize(user, "registry.credential.manage", region_code=credential.region_code)
        if credential.revoked_at is None:
            credential.revoked_at = now or timezone.now()
            credential.revoked_by = user
            credential.save(update_fields=["revoked_at", "revoked_by"])
            record_audit(
                actor=Actor.for_user(user),
                action="registry.credential.revoke",
                target_type="registry_credential",
                target_id=credential.pk,
                after={"key_id": credential.key_id, "region_code": credential.region_code},
            )
    return credential


def registry_credentials_for(user: User) -> list[RegistryCredential]:
    """The credentials of the staff member's region (newest first)."""
    scope = authorize(user, "registry.credential.manage")
    return list(RegistryCredential.objects.filter(region_code__startswith=scope.region_prefix))


def authenticate_registry_token(token: str, *, now: dt.datetime | None = None) -> RegistryCredential | None:
    """The active registry-feed credential a bearer token belongs to, or None (unknown, wrong
    secret, revoked). Records when it was last used."""
    parts = _split_token(token, REGISTRY_TOKEN_PREFIX)
    if parts is None:
        return None
    credential = RegistryCredential.objects.filter(key_id=parts[0], revoked_at__isnull=True).first()
    if credential is None or not _secret_matches(credential.secret_hash, parts[1]):
        return None
    credential.last_used_at = now or timezone.now()
    RegistryCredential.objects.filter(pk=credential.pk).update(last_used_at=credential.last_used_at)
    return credential
