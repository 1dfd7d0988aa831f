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
from typing import Any

from django.db import connection, transaction
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
    """The active credential a bearer token belongs to (with its company loaded), or None.

    Called by every exchange upload: one indexed query, written once per process as SQL (the
    ORM compiled the same query on every request, the largest fixed Python cost of an upload,
    issue #16); rows become model instances with the fields' own database converters.
    """
    parts = _split_token(token, TOKEN_PREFIX)
    if parts is None:
        return None
    credential = _credential_lookup().fetch(parts[0])
    if credential is None or not _secret_matches(credential.secret_hash, parts[1]):
        return None
    return credential


class _CredentialLookup:
    """``SELECT`` an active company credential and its company by key id (unique), as SQL."""

    def __init__(self) -> None:
        cred_fields = CompanyCredential._meta.concrete_fields
        company_fields = Company._meta.concrete_fields
        quote = connection.ops.quote_name
        cred_table, company_table = CompanyCredential._meta.db_table, Company._meta.db_table
        self.fields: list[tuple[Any, Any, str]] = [
            (CompanyCredential, f, cred_table) for f in cred_fields
        ] + [(Company, f, company_table) for f in company_fields]
        columns = ", ".join(f"{quote(t)}.{quote(f.column)}" for _m, f, t in self.fields)
        self.sql = (
            f"SELECT {columns} FROM {quote(cred_table)} "  # noqa: S608 - names from the models
            f"JOIN {quote(company_table)} ON {quote(company_table)}.{quote('id')} = "
            f"{quote(cred_table)}.{quote('company_id')} "
            f"WHERE {quote(cred_table)}.{quote('key_id')} = %s "
            f"AND {quote(cred_table)}.{quote('revoked_at')} IS NULL"
        )
        self.converters: list[tuple[Any, list[Any]]] = []
        for _model, field, table in self.fields:
            col = field.get_col(table)
            self.converters.append(
                (col, connection.ops.get_db_converters(col) + field.get_db_converters(connection))
            )
        self.split = len(cred_fields)
        self.cred_names = [f.attname for f in cred_fields]
        self.company_names = [f.attname for f in company_fields]

    def fetch(self, key_id: str) -> CompanyCredential | None:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [key_id])
            row = cursor.fetchone()
        if row is None:
            return None
        values = []
        for (col, converters), value in zip(self.converters, row, strict=True):
            for convert in converters:
                value = convert(value, col, connection)
            values.append(value)
        credential = CompanyCredential.from_db(connection.alias, self.cred_names, values[: self.split])
        company = Company.from_db(connection.alias, self.company_names, values[self.split :])
        CompanyCredential._meta.get_field("company").set_cached_value(credential, company)
        return credential


_LOOKUPS: dict[str, _CredentialLookup] = {}


def _credential_lookup() -> _CredentialLookup:
    lookup = _LOOKUPS.get(connection.vendor)
    if lookup is None:
        lookup = _LOOKUPS[connection.vendor] = _CredentialLookup()
    return lookup


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
