"""The platform's five parts, described once for the home page and the API."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class PlatformPart:
    key: str
    name: Promise
    audience: Promise
    summary: Promise


def platform_parts() -> list[PlatformPart]:
    return [
        PlatformPart(
            key="exchange",
            name=pgettext_lazy("platform part", "Supervision data exchange"),
            audience=_("Ride-hailing companies and regulators"),
            summary=_(
                "Companies upload base data, orders, trips, payments, positions and ratings through the "
                "Ministry of Transport's interface; every field is checked strictly and turned into "
                "compliance rates and dashboards."
            ),
        ),
        PlatformPart(
            key="conformance",
            name=pgettext_lazy("platform part", "Access certification"),
            audience=_("Ride-hailing companies"),
            summary=_(
                "Self-service connectivity and consistency tests, graded automatically, with test "
                "appointments and the test-passed document."
            ),
        ),
        PlatformPart(
            key="licensing",
            name=pgettext_lazy("platform part", "Platform licensing"),
            audience=_("Companies and six provincial departments"),
            summary=_(
                "The operating-licence workflow: local quota, ministry replies, online service capability "
                "review, security evaluations and statutory deadlines in working days."
            ),
        ),
        PlatformPart(
            key="office",
            name=pgettext_lazy("platform part", "One-Network Office"),
            audience=_("Drivers and practitioners"),
            summary=_(
                "SMS login, real-name verification, and certificate services: credit assessment, renewal, "
                "replacement, change and cancellation, tracked case by case."
            ),
        ),
        PlatformPart(
            key="elicense",
            name=pgettext_lazy("platform part", "Electronic licences and passes"),
            audience=_("Holders, inspectors and other provinces"),
            summary=_(
                "Signed, QR-verifiable licences and vouchers, kept in sync with every change, shared only "
                "with the holder's consent; electronic traffic passes."
            ),
        ),
    ]
