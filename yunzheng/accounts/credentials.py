"""Company API credentials: creation, authentication, revocation.

Token format `yz_<key id>_<secret>`: the key id finds the row through a unique index, the secret
(32 random bytes) is compared by SM3 hash in constant time. Secrets are high-entropy, so a fast
hash is enough (no password-style stretching, which would slow every upload request).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from yunzheng.accounts.models import Company, CompanyCredential, User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.crypto import sm3_hex

TOKEN_PREFIX = "yz"  # noqa: S105  (a public prefix, not a secret)


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


def authenticate_company_token(token: str) -> CompanyCredential | None:
    """The active credential a bearer token belongs to (with its company loaded), or None."""
    prefix, _sep, rest = token.partition("_")
    key_id, _sep, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not key_id or not secret or not secret.isascii():
        return None
    credential = (
        CompanyCredential.objects.select_related("company")
        .filter(key_id=key_id, revoked_at__isnull=True)
        .first()
    )
    if credential is None or not hmac.compare_digest(credential.secret_hash, _hash_secret(secret)):
        return None
    return credential
