"""The online-service-capability determination as a document (issue #17 item 7) and the local
licence path (地牌) that builds on it (item 4).

The province's approval issues a `CapabilityDetermination`: number, date, validity (the documents
set none: LICENSING_DETERMINATION_VALID_YEARS, yunzheng's default), a PDF on request
(`licensing.determination_pdf`) and an electronic licence (elicense.licence_sync, same
transaction). A local licence application in another city refers to it (its number is stored on
the application) and is refused when it is absent or expired; the local path then needs only the
city's own review, the local evaluations where the city requires them, and the local licence.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company, User
from yunzheng.core.audit import Actor
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import Conflict, ErrorDetail, ValidationFailed
from yunzheng.licensing import deadlines
from yunzheng.licensing.conf import app_settings
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    CapabilityDetermination,
    CityQuota,
    LicenceApplication,
    LicencePath,
    Step,
)
from yunzheng.licensing.services._common import _actor, _lock, _move
from yunzheng.licensing.workflow import Action


def determination_valid_years() -> int:
    return int(app_settings.LICENSING_DETERMINATION_VALID_YEARS)


def _number(province_code: str, year: int) -> str:
    prefix = f"{province_code[:2]}XSNL{year}"
    count = CapabilityDetermination.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{count + 1:05d}"


def determination_issue(
    *, application: LicenceApplication, user: User, number: str, now: dt.datetime
) -> CapabilityDetermination:
    """Issue the determination of an approved national application (called by
    capability_decide inside its transaction). `number` is the province's decision number, or
    empty for one numbered here."""
    decided_on = today_in_china(now)
    number = (number or "").strip()[:100] or _number(application.province_code, decided_on.year)
    if CapabilityDetermination.objects.filter(number=number).exists():
        raise ValidationFailed.single(
            field="decision_number",
            code=Code.DETERMINATION_NUMBER_TAKEN,
            message=_("This determination number is already used."),
        )
    valid_until = deadlines.add_months(decided_on, 12 * determination_valid_years()) - dt.timedelta(days=1)
    determination = CapabilityDetermination.objects.create(
        number=number,
        company=application.company,
        application=application,
        province_code=application.province_code,
        decided_on=decided_on,
        valid_until=valid_until,
        issued_by=user,
        issued_at=now,
    )
    determination.electronic_licence_id = _sync_electronic(determination, actor=_actor(user), now=now)
    determination.save(update_fields=["electronic_licence_id"])
    return determination


def _sync_electronic(determination: CapabilityDetermination, *, actor: Actor, now: dt.datetime) -> str:
    from yunzheng.elicense.models import LicenceType
    from yunzheng.elicense.services import licence_sync

    electronic = licence_sync(
        source_type="licensing.capability_determination",
        source_id=determination.pk,
        licence_type=LicenceType.RIDEHAIL_CAPABILITY_DETERMINATION,
        holder_name=determination.company.name,
        holder_company=determination.company,
        issuer_region=determination.province_code,
        valid_from=determination.decided_on,
        valid_until=determination.valid_until,
        data={
            "certificate_number": determination.number,
            "scope": "网络预约出租汽车线上服务能力",
            "credit_code": determination.company.credit_code,
        },
        event="issue",
        actor=actor,
        now=now,
    )
    return str(electronic.lid)


def current_determination(company: Company) -> CapabilityDetermination | None:
    return CapabilityDetermination.objects.filter(company=company).order_by("-decided_on", "-id").first()


def determination_require_valid(company: Company, *, on: dt.date) -> CapabilityDetermination:
    """The company's determination valid on `on`; Conflict `determination.missing` / `.expired`."""
    determination = current_determination(company)
    if determination is None:
        raise Conflict(
            Code.DETERMINATION_MISSING,
            _("A local licence builds on the online-service-capability determination; the company has none."),
            details=[ErrorDetail(field="path", code=Code.DETERMINATION_MISSING, message="")],
        )
    if not deadlines.is_valid_on(determination.valid_until, on):
        raise Conflict(
            Code.DETERMINATION_EXPIRED,
            _("The online-service-capability determination %(number)s expired on %(date)s.")
            % {"number": determination.number, "date": determination.valid_until.isoformat()},
            details=[ErrorDetail(field="path", code=Code.DETERMINATION_EXPIRED, message="")],
        )
    return determination


def local_evaluations_required(city_code: str) -> bool:
    """Whether the city asks for the three evaluations on a local licence (CityQuota; required
    unless the city said otherwise: yunzheng's default)."""
    quota = CityQuota.objects.filter(city_code=city_code).first()
    return True if quota is None else quota.local_evaluations_required


def local_review(
    *,
    application: LicenceApplication,
    user: User,
    decision: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> LicenceApplication:
    """The second city's transport authority reviews a local licence application: return it with
    the reasons, or accept it - on to the evaluations where the city requires them, otherwise
    straight to the decision. The determination must still be valid."""
    now = now_or(now)
    if decision not in ("accept", "return"):
        raise ValidationFailed.single(
            field="decision", code=Code.FIELD_REQUIRED, message=_("Choose a decision.")
        )
    with transaction.atomic():
        locked = _lock(application)
        if decision == "return":
            _move(locked, action=Action.RETURN_LOCAL, user=user, now=now, reason=reason)
            return locked
        if locked.path == LicencePath.LOCAL and locked.step == Step.LOCAL_REVIEW:
            determination_require_valid(locked.company, on=today_in_china(now))
        action = (
            Action.ACCEPT_LOCAL
            if local_evaluations_required(locked.city_code)
            else Action.ACCEPT_LOCAL_DIRECT
        )
        _move(locked, action=action, user=user, now=now, reason=reason, facts={"decision": decision})
    return locked
