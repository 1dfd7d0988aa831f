"""API bearer tokens for app and mini-program clients, and the audit of web logouts."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.db import transaction

from yunzheng.accounts.conf import app_settings
from yunzheng.accounts.models import User, UserToken
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or
from yunzheng.core.crypto import sm3_hex

USER_TOKEN_PREFIX = "yzu"  # noqa: S105  (a public prefix, not a secret)


@dataclass(frozen=True)
class IssuedUserToken:
    token: str  # shown once, never stored
    record: UserToken


def _hash_token(token: str) -> str:
    return sm3_hex(token.encode("utf-8"))


def user_token_create(
    *, user: User, client_name: str = "", now: dt.datetime | None = None
) -> IssuedUserToken:
    now = now_or(now)
    token = f"{USER_TOKEN_PREFIX}_{secrets.token_urlsafe(32)}"
    days = int(app_settings.ACCOUNTS_USER_TOKEN_TTL_DAYS)
    with transaction.atomic():
        record = UserToken.objects.create(
            user=user,
            token_hash=_hash_token(token),
            client_name=client_name[:100],
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
        record_audit(
            actor=Actor.for_user(user),
            action="user.token.create",
            target_type="user",
            target_id=user.pk,
            after={"token_id": record.pk, "client": record.client_name, "expires_at": record.expires_at},
        )
    return IssuedUserToken(token=token, record=record)


def user_token_revoke(*, token: UserToken, now: dt.datetime | None = None) -> None:
    now = now_or(now)
    with transaction.atomic():
        updated = UserToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        if updated:
            record_audit(
                actor=Actor.for_user(token.user),
                action="user.token.revoke",
                target_type="user",
                target_id=token.user_id,
                after={"token_id": token.pk},
            )


def authenticate_user_token(token: str, *, now: dt.datetime | None = None) -> UserToken | None:
    """The live token record (user loaded) for a bearer token, or None. Touches last_used_at at most
    once a minute, so authenticated reads don't each become a write."""
    now = now_or(now)
    if not token.startswith(f"{USER_TOKEN_PREFIX}_") or len(token) > 100 or not token.isascii():
        return None
    record = (
        UserToken.objects.select_related("user")
        .filter(token_hash=_hash_token(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if record is None or not record.user.is_active:
        return None
    if record.last_used_at is None or record.last_used_at < now - dt.timedelta(minutes=1):
        UserToken.objects.filter(pk=record.pk).update(last_used_at=now)
        record.last_used_at = now
    return record


def user_logout_recorded(*, user: User) -> None:
    """Audit a web logout (the session itself is flushed by django.contrib.auth.logout)."""
    record_audit(actor=Actor.for_user(user), action="user.logout", target_type="user", target_id=user.pk)
