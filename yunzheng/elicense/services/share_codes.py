"""Share codes (holder consent)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import now_or
from yunzheng.core.crypto import (
    lookup_hash,
    mask_name,
)
from yunzheng.core.errors import (
    Conflict,
    NotFound,
    ValidationFailed,
)
from yunzheng.elicense.conf import app_settings
from yunzheng.elicense.error_codes import ElicenseErrorCode as Code
from yunzheng.elicense.models import (
    ElectronicLicence,
    LicenceStatus,
    ShareCode,
    VerificationAttempt,
)
from yunzheng.elicense.services._common import SHARE_CODE_ALPHABET, SHARE_CODE_LENGTH
from yunzheng.elicense.services.status import user_holds_licence
from yunzheng.elicense.services.verification import _rate_limited, client_ip_hash

# --------------------------------------------------------------------------------------------
# Share codes (holder consent)
# --------------------------------------------------------------------------------------------


def _normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def format_share_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


@dataclass(frozen=True)
class IssuedShareCode:
    share: ShareCode
    code: str  # shown once to the holder, never stored

    @property
    def display(self) -> str:
        return format_share_code(self.code)


def share_code_create(
    *, licence: ElectronicLicence, user: User, recipient_name: str, now: dt.datetime | None = None
) -> IssuedShareCode:
    """The holder lets a named third party see this licence in full, once, within minutes."""
    if not user_holds_licence(user=user, licence=licence):
        raise NotFound(Code.LICENCE_NOT_FOUND, _("No such licence."))
    recipient_name = (recipient_name or "").strip()
    if not recipient_name or len(recipient_name) > 100:
        raise ValidationFailed.single(
            field="recipient_name",
            code=Code.SHARE_RECIPIENT_REQUIRED,
            message=_("Name the person or organisation you share with (at most 100 characters)."),
        )
    if licence.status in (LicenceStatus.REVOKED,):
        raise Conflict(Code.LICENCE_NOT_USABLE, _("A revoked licence cannot be shared."))
    now = now_or(now)
    code = "".join(secrets.choice(SHARE_CODE_ALPHABET) for _i in range(SHARE_CODE_LENGTH))
    with transaction.atomic():
        share = ShareCode.objects.create(
            licence=licence,
            code_hash=lookup_hash(f"share:{code}"),
            recipient_name=recipient_name,
            created_by=user,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=int(app_settings.ELICENSE_SHARE_CODE_TTL_MINUTES)),
        )
        record_audit(
            actor=Actor.for_user(user),
            action="elicense.share_code.create",
            target_type="electronic_licence",
            target_id=licence.lid,
            after={
                "share_code": share.pk,
                "recipient": mask_name(recipient_name),
                "expires_at": share.expires_at,
            },
        )
    return IssuedShareCode(share=share, code=code)


def _redeem_and_log(
    normalised: str, ip_hash: str, channel: str, now: dt.datetime
) -> tuple[ShareCode | None, bool]:
    share = (
        ShareCode.objects.select_related("licence")
        .filter(code_hash=lookup_hash(f"share:{normalised}"))
        .first()
        if re.fullmatch(f"[{SHARE_CODE_ALPHABET}]{{{SHARE_CODE_LENGTH}}}", normalised)
        else None
    )
    # The conditional UPDATE is the single-use guarantee: of two simultaneous redemptions,
    # exactly one changes the row.
    used = (
        share is not None
        and ShareCode.objects.filter(pk=share.pk, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now, used_by_ip_hash=ip_hash
        )
        == 1
    )
    VerificationAttempt.objects.create(
        at=now,
        ip_hash=ip_hash,
        channel=channel,
        result="shared" if used else "refused",
        reason_code="share_code.used" if used else Code.SHARE_CODE_INVALID,
        lid=share.licence.lid if share is not None else "",
    )
    if share is not None:
        record_audit(
            actor=Actor(kind="anonymous", label=f"ip#{ip_hash[:12]}"),
            action="elicense.share_code.use" if used else "elicense.share_code.refused",
            target_type="electronic_licence",
            target_id=share.licence.lid,
            after={"share_code": share.pk, "recipient": mask_name(share.recipient_name)},
        )
    return share, used


def share_code_redeem(
    *,
    code: str,
    client_ip: str | None,
    channel: str = VerificationAttempt.Channel.SHARE,
    now: dt.datetime | None = None,
) -> ShareCode:
    """Show the licence in full to the holder's named recipient: works once, before expiry, then
    never again. Unknown, used and expired codes get the same answer (no probing)."""
    now = now_or(now)
    ip_hash = client_ip_hash(client_ip)
    normalised = _normalise_code(code)
    with transaction.atomic():
        refusal = _rate_limited(ip_hash=ip_hash, channel=channel, now=now)
        share, used = (
            (None, False) if refusal is not None else _redeem_and_log(normalised, ip_hash, channel, now)
        )
    if refusal is not None:
        raise refusal
    if share is None or not used:
        raise NotFound(
            Code.SHARE_CODE_INVALID, _("This share code is not valid: it is wrong, expired or already used.")
        )
    share.used_at = now
    share.used_by_ip_hash = ip_hash
    return share
