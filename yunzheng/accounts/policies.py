"""The user agreement and the privacy policy: which versions are current.

When a text changes materially, bump its version here (and the template text): every user then
accepts the new version at their next login, and `PolicyAcceptance` keeps who accepted what, when.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

USER_AGREEMENT = "user_agreement"
PRIVACY_POLICY = "privacy_policy"

CURRENT_VERSIONS: dict[str, str] = {
    USER_AGREEMENT: "2025-01",
    PRIVACY_POLICY: "2025-01",
}


@dataclass(frozen=True)
class PolicyDocument:
    key: str
    version: str
    title: Promise
    url_name: str  # the page that shows the text


def current_policies() -> list[PolicyDocument]:
    return [
        PolicyDocument(
            key=USER_AGREEMENT,
            version=CURRENT_VERSIONS[USER_AGREEMENT],
            title=_("User agreement"),
            url_name="accounts:user_agreement",
        ),
        PolicyDocument(
            key=PRIVACY_POLICY,
            version=CURRENT_VERSIONS[PRIVACY_POLICY],
            title=_("Privacy policy"),
            url_name="accounts:privacy_policy",
        ),
    ]
