"""Personal information on a case (stored encrypted) and its prefill from the applicant's
real-name record.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from yunzheng.accounts.models import User
from yunzheng.accounts.selectors import realname_latest_for_user
from yunzheng.practitioners.models import (
    ServiceCase,
)

# --------------------------------------------------------------------------------------------
# Personal information on a case (stored encrypted)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    method: str = ""
    recipient: str = ""
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class PersonalInfo:
    name: str = ""  # always the verified name of the account, never typed
    phone: str = ""
    address: str = ""
    contact_name: str = ""
    delivery: Delivery = field(default_factory=Delivery)

    @property
    def is_complete(self) -> bool:
        return bool(self.name and self.phone and self.address and self.contact_name)


def personal_info(case: ServiceCase) -> PersonalInfo:
    if not case.personal_data:
        return PersonalInfo()
    raw = json.loads(case.personal_data)
    delivery = Delivery(**raw.pop("delivery", {}))
    return PersonalInfo(**raw, delivery=delivery)


def _store_personal(case: ServiceCase, info: PersonalInfo) -> None:
    case.personal_data = json.dumps(asdict(info), ensure_ascii=False)


def personal_prefill(*, user: User) -> PersonalInfo:
    """What the personal-information form starts with: the account's phone, verified name and the
    address on the verified ID card."""
    verification = realname_latest_for_user(user=user)
    address = ""
    if verification is not None and verification.status == verification.Status.APPROVED:
        address = verification.address or ""
    name = user.real_name or ""
    return PersonalInfo(name=name, phone=user.phone or "", address=address, contact_name=name)
