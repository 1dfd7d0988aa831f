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
    url_name: str  # where the part starts (anonymous visitors are sent to the right login first)


def platform_parts() -> list[PlatformPart]:
    return [
        PlatformPart(
            key="exchange",
            url_name="exchange:staff_overview",
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
            url_name="conformance:home",
            name=pgettext_lazy("platform part", "Access certification"),
            audience=_("Ride-hailing companies"),
            summary=_(
                "Self-service connectivity and consistency tests, graded automatically, with test "
                "appointments and the test-passed document."
            ),
        ),
        PlatformPart(
            key="licensing",
            url_name="licensing:home",
            name=pgettext_lazy("platform part", "Platform licensing"),
            audience=_("Companies and six provincial departments"),
            summary=_(
                "The operating-licence workflow: local quota, ministry replies, online service capability "
                "review, security evaluations and statutory deadlines in working days."
            ),
        ),
        PlatformPart(
            key="office",
            url_name="practitioners:home",
            name=pgettext_lazy("platform part", "One-Network Office"),
            audience=_("Drivers and practitioners"),
            summary=_(
                "SMS login, real-name verification, and certificate services: credit assessment, renewal, "
                "replacement, change and cancellation, tracked case by case."
            ),
        ),
        PlatformPart(
            key="elicense",
            url_name="elicense:verify",
            name=pgettext_lazy("platform part", "Electronic licences and passes"),
            audience=_("Holders, inspectors and other provinces"),
            summary=_(
                "Signed, QR-verifiable licences and vouchers, kept in sync with every change, shared only "
                "with the holder's consent; electronic traffic passes."
            ),
        ),
    ]
