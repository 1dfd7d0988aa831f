"""Identity-verification backends: who decides whether a real-name submission is genuine.

Chosen like Django's authentication backends, by dotted path in settings.IDENTITY_VERIFICATION_BACKEND:

- `yunzheng.accounts.identity.ManualReviewBackend` (default): every submission waits for staff.
- `yunzheng.accounts.identity.TrustedOcrBackend` (demos only): approves a submission whose name
  and ID number are exactly what OCR read from the photo; anything else goes to staff.

A real check against the public-security identity service (e.g. an NCIIC-style name + ID number
+ portrait comparison) is a third backend implementing `verify`; it may answer approve, reject
or review. Backends run outside the database transaction, so a slow remote call holds no locks.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from yunzheng.accounts.conf import app_settings
from yunzheng.accounts.ocr import IdCardFields


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"  # leave it to staff


@dataclass(frozen=True)
class IdentityClaim:
    """What the user submitted (already validated: checksum, birth date, region) plus the OCR reading."""

    name: str
    id_number: str
    sex: str
    birth_date: dt.date
    ethnicity: str
    address: str
    ocr: IdCardFields
    photo: bytes | None


@dataclass(frozen=True)
class IdentityDecision:
    outcome: Outcome
    reason: str = ""


class IdentityVerificationBackend(ABC):
    @abstractmethod
    def verify(self, claim: IdentityClaim) -> IdentityDecision:
        """Decide, or return REVIEW to queue the submission for staff."""


class ManualReviewBackend(IdentityVerificationBackend):
    def verify(self, claim: IdentityClaim) -> IdentityDecision:
        return IdentityDecision(Outcome.REVIEW)


class TrustedOcrBackend(IdentityVerificationBackend):
    """For demos and test environments: trusts the photo. Never use it in production — a photo of
    someone else's card would pass."""

    def verify(self, claim: IdentityClaim) -> IdentityDecision:
        ocr = claim.ocr
        consistent = (
            bool(ocr.name)
            and ocr.name == claim.name
            and ocr.id_number.upper() == claim.id_number.upper()
            and (not ocr.sex or ocr.sex == claim.sex)
            and (ocr.birth_date is None or ocr.birth_date == claim.birth_date)
        )
        if consistent:
            return IdentityDecision(Outcome.APPROVE, _("Matches the ID card photo."))
        return IdentityDecision(
            Outcome.REVIEW, _("The submission differs from what was read from the photo.")
        )


def get_identity_backend() -> IdentityVerificationBackend:
    path = app_settings.IDENTITY_VERIFICATION_BACKEND
    backend_class = import_string(path)
    backend = backend_class()
    if not isinstance(backend, IdentityVerificationBackend):
        raise TypeError(f"{path} is not an IdentityVerificationBackend")
    return backend


def backend_label() -> str:
    return str(app_settings.IDENTITY_VERIFICATION_BACKEND)
