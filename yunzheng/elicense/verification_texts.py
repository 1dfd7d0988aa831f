"""Human wording of verification results and reason codes (pages, API `message`)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def result_label(result: str) -> str:
    labels = {
        "valid": _("Valid"),
        "not_yet_valid": _("Not yet valid"),
        "expired": _("Expired"),
        "suspended": _("Suspended"),
        "revoked": _("Revoked"),
        "superseded": _("Superseded by a newer version"),
        "not_genuine": _("Not genuine"),
    }
    return labels.get(result, result)


def result_message(result: str, reason_code: str) -> str:
    reasons = {
        "licence.valid": _("The licence is genuine and valid (checked live just now)."),
        "licence.not_yet_valid": _("The licence is genuine but its validity has not started yet."),
        "licence.expired": _("The licence is genuine but has expired."),
        "licence.suspended": _("The licence is genuine but suspended by the issuing authority."),
        "licence.revoked": _("The licence is genuine but has been revoked or cancelled."),
        "licence.superseded": _(
            "The licence has been updated since this code was produced; ask the holder for the current one."
        ),
        "licence.unknown": _("The issuing authority has no record of this licence."),
        "key.unknown": _("Signed with a key that no issuing authority published."),
        "key.expired": _("Signed with a key that is no longer accepted (expired or rotated out)."),
        "key.compromised": _("Signed with a key that was withdrawn as compromised."),
        "key.not_valid_when_signed": _("Signed on a day when the key was not allowed to sign."),
        "key.wrong_issuer": _("Signed with another province's key."),
        "key.wrong_purpose": _("Signed with a key that may not sign licences."),
        "signature.invalid": _("The signature does not match: the code was altered or forged."),
        "payload.malformed": _("This is not a licence code, or it was damaged."),
        "payload.too_long": _("This is not a licence code."),
        "payload.unsupported_version": _("This code uses a format this service does not know."),
        "payload.signed_in_future": _("The code claims to be signed in the future."),
    }
    return reasons.get(reason_code) or result_label(result)
