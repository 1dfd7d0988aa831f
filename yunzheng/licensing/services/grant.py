"""The licence decision: grant (with the electronic licence) or refusal."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import User
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import (
    ValidationFailed,
)
from yunzheng.licensing import deadlines
from yunzheng.licensing.conf import app_settings
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    LicenceApplication,
    LicencePath,
    OperatingLicence,
)
from yunzheng.licensing.services._common import _lock, _move, _text
from yunzheng.licensing.services.blacklist import blacklist_require_clear
from yunzheng.licensing.services.determination import determination_require_valid, local_evaluations_required
from yunzheng.licensing.services.evaluations import evaluations_require_valid
from yunzheng.licensing.services.operating_licences import operating_licence_issue
from yunzheng.licensing.workflow import (
    Action,
)

# --------------------------------------------------------------------------------------------
# Decision and licence
# --------------------------------------------------------------------------------------------


def licence_grant(
    *,
    application: LicenceApplication,
    user: User,
    scope: str,
    area: str,
    valid_years: int | None = None,
    now: dt.datetime | None = None,
) -> OperatingLicence:
    """The city transport authority grants the operating licence (national path) or the local
    licence (地牌). Refused while an evaluation is missing or expired, or the test-passed document
    has expired. The licence enters the operating-licence registry (`operating_licence_issue`),
    which creates the electronic licence in the same transaction."""
    now = now_or(now)
    today = today_in_china(now)
    scope = _text(scope, field="scope", limit=200, label=_("Business scope"))
    area = _text(area, field="area", limit=200, label=_("Operating area"))
    years = valid_years if valid_years is not None else int(app_settings.LICENSING_LICENCE_VALID_YEARS)
    if not 1 <= years <= 10:
        raise ValidationFailed.single(
            field="valid_years", code=Code.LICENCE_INVALID, message=_("1 to 10 years.")
        )
    with transaction.atomic():
        locked = _lock(application)
        blacklist_require_clear(locked.company, on=today)
        if locked.path == LicencePath.LOCAL:
            # The local licence stands on the national determination (and, where the city requires
            # them, the local evaluations).
            determination_require_valid(locked.company, on=today)
            if local_evaluations_required(locked.city_code):
                evaluations_require_valid(company=locked.company, on=today)
        else:
            evaluations_require_valid(company=locked.company, on=today)
        valid_until = deadlines.add_months(today, 12 * years) - dt.timedelta(days=1)
        licence = operating_licence_issue(
            company=locked.company,
            application=locked,
            kind=OperatingLicence.Kind.NATIONAL
            if locked.path == LicencePath.NATIONAL
            else OperatingLicence.Kind.LOCAL,
            scope=scope,
            area=area,
            city_code=locked.city_code,
            valid_from=today,
            valid_until=valid_until,
            staff=user,
            now=now,
        )
        _move(
            locked,
            action=Action.GRANT,
            user=user,
            now=now,
            facts={"licence": licence.number, "valid_until": valid_until, "kind": licence.kind},
        )
    return licence


def licence_refuse(
    *, application: LicenceApplication, user: User, reason: str, now: dt.datetime | None = None
) -> None:
    now = now_or(now)
    with transaction.atomic():
        _move(_lock(application), action=Action.REFUSE, user=user, now=now, reason=reason)
