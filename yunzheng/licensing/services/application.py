"""Applications through the quota stage: creation, materials, the work contact letter, the
ministry's reply, company details and the test / VPN accounts; withdrawal.
"""

# ruff: noqa: PT028
from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yunzheng.accounts.guards import ensure_real_name_verified
from yunzheng.accounts.models import Company, User
from yunzheng.core.audit import record_audit
from yunzheng.core.clock import now_or, today_in_china
from yunzheng.core.errors import (
    Conflict,
    ErrorDetail,
    PermissionDenied,
    ValidationFailed,
)
from yunzheng.licensing import files, selectors
from yunzheng.licensing.error_codes import LicensingErrorCode as Code
from yunzheng.licensing.models import (
    LicenceApplication,
    LicencePath,
    Material,
    OperatingLicence,
    Party,
    StageTransition,
    Step,
)
from yunzheng.licensing.services._common import (
    _actor,
    _lock,
    _move,
    _not_future,
    _open_stage,
    _role,
    _text,
    history_label,
)
from yunzheng.licensing.services.determination import determination_require_valid
from yunzheng.licensing.services.quota import _require_city_accepting, _require_city_code
from yunzheng.licensing.workflow import (
    Action,
)

QUOTA_MATERIAL_KINDS = (
    Material.Kind.ANNEX_2,
    Material.Kind.ANNEX_3,
    Material.Kind.ANNEX_4,
    Material.Kind.CLOUD_PROOF,
)


# --------------------------------------------------------------------------------------------
# Applications: quota stage
# --------------------------------------------------------------------------------------------


def application_create(
    *, company: Company, path: str, city_code: str, user: User, now: dt.datetime | None = None
) -> LicenceApplication:
    """A company member opens an application in a city that accepts new platforms."""
    now = now_or(now)
    ensure_real_name_verified(user)
    selectors.require_member(user=user, company=company)
    if path not in LicencePath.values:
        raise ValidationFailed.single(field="path", code=Code.FIELD_REQUIRED, message=_("Choose a path."))
    city_code = _require_city_code(city_code)
    _require_city_accepting(city_code)
    today = today_in_china(now)
    determination = None
    if path == LicencePath.LOCAL:
        if not OperatingLicence.objects.filter(
            company=company, kind=OperatingLicence.Kind.NATIONAL, valid_until__gte=today
        ).exists():
            raise Conflict(
                Code.APPLICATION_NATIONAL_LICENCE_REQUIRED,
                _(
                    "A local licence needs a valid operating licence with the online service "
                    "capability determination."
                ),
            )
        # The local licence builds on the national result: it refers to the determination.
        determination = determination_require_valid(company, on=today)
    try:
        with transaction.atomic():
            application = LicenceApplication.objects.create(
                company=company,
                path=path,
                city_code=city_code,
                province_code=city_code[:2] + "0000",
                step=Step.QUOTA_MATERIALS,
                created_at=now,
                created_by=user,
                updated_at=now,
                determination=determination,
                determination_number=determination.number if determination else "",
            )
            _open_stage(application, Step.QUOTA_MATERIALS, now=now, start=today)
            StageTransition.objects.create(
                application=application,
                from_step="",
                to_step=Step.QUOTA_MATERIALS,
                action="create",
                actor=user,
                actor_label=history_label(user),
                at=now,
            )
            record_audit(
                actor=_actor(user),
                action="licensing.application.create",
                target_type="licence_application",
                target_id=application.pk,
                after={
                    "company": company.pk,
                    "path": path,
                    "city_code": city_code,
                    "determination": determination.number if determination else None,
                },
            )
    except IntegrityError:
        raise Conflict(
            Code.APPLICATION_ALREADY_OPEN, _("The company already has an open application for this city.")
        ) from None
    return application


_UPLOADERS: dict[str, tuple[str, tuple[str, ...]]] = {
    Material.Kind.ANNEX_2: (Party.COMPANY, (Step.QUOTA_MATERIALS,)),
    Material.Kind.ANNEX_3: (Party.COMPANY, (Step.QUOTA_MATERIALS,)),
    Material.Kind.ANNEX_4: (Party.COMPANY, (Step.QUOTA_MATERIALS,)),
    Material.Kind.CLOUD_PROOF: (Party.COMPANY, (Step.QUOTA_MATERIALS,)),
    Material.Kind.CAPABILITY: (Party.COMPANY, (Step.CAPABILITY_MATERIALS, Step.CAPABILITY_REVISION)),
    Material.Kind.WORK_LETTER: (Party.CITY_TRANSPORT, (Step.QUOTA_REVIEW,)),
    Material.Kind.MINISTRY_REPLY: (Party.MINISTRY, (Step.MINISTRY_REPLY,)),
}


def material_upload(
    *, application: LicenceApplication, kind: str, upload: Any, user: User, now: dt.datetime | None = None
) -> Material:
    """Attach a document (PDF, or an image for proofs) to the application at the right step."""
    now = now_or(now)
    if kind not in _UPLOADERS:
        raise ValidationFailed.single(field="kind", code=Code.FIELD_REQUIRED, message=_("Unknown material."))
    party, steps = _UPLOADERS[kind]
    application = LicenceApplication.objects.select_related("company").get(pk=application.pk)  # fresh step
    role = _role(user, application)
    if role != party or application.step not in steps:
        raise PermissionDenied(Code.NOT_YOUR_TURN, _("This material cannot be added now."))
    checked = files.check_document(upload, field="file")
    stored = files.store(checked, folder="licensing/materials")
    with transaction.atomic():
        material = Material.objects.create(
            application=application,
            kind=kind,
            stored_name=stored,
            original_name=checked.original_name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=user,
            uploaded_at=now,
        )
        record_audit(
            actor=_actor(user),
            action="licensing.material.upload",
            target_type="licence_application",
            target_id=application.pk,
            after={"material": material.pk, "kind": kind, "sha256": checked.sha256, "size": checked.size},
        )
    return material


def quota_materials_submit(
    *, application: LicenceApplication, user: User, now: dt.datetime | None = None
) -> LicenceApplication:
    now = now_or(now)
    with transaction.atomic():
        locked = _lock(application)
        present = set(locked.materials.values_list("kind", flat=True))
        missing = [kind for kind in QUOTA_MATERIAL_KINDS if kind not in present]
        if missing:
            raise ValidationFailed(
                Code.MATERIALS_MISSING,
                _("Upload every required material first."),
                details=[
                    ErrorDetail(
                        field=kind, code=Code.MATERIALS_MISSING, message=str(Material.Kind(kind).label)
                    )
                    for kind in missing
                ],
            )
        _require_city_accepting(locked.city_code)
        _move(locked, action=Action.SUBMIT_QUOTA, user=user, now=now)
    return locked


def quota_return(
    *, application: LicenceApplication, user: User, reason: str, now: dt.datetime | None = None
) -> None:
    now = now_or(now)
    with transaction.atomic():
        _move(_lock(application), action=Action.RETURN_QUOTA, user=user, now=now, reason=reason)


def work_letter_send(
    *,
    application: LicenceApplication,
    user: User,
    letter_number: str,
    letter_date: dt.date,
    now: dt.datetime | None = None,
) -> LicenceApplication:
    """The city clerk records the work contact letter to the ministry; the ministry's 15 working
    days run from the letter's date."""
    now = now_or(now)
    letter_number = _text(letter_number, field="letter_number", limit=100, label=_("Letter number"))
    letter_date = _not_future(letter_date, field="letter_date", today=today_in_china(now))
    with transaction.atomic():
        locked = _lock(application)
        locked.letter_number, locked.letter_date = letter_number, letter_date
        _move(
            locked,
            action=Action.SEND_LETTER,
            user=user,
            now=now,
            clock_start=letter_date,
            facts={"letter_number": letter_number, "letter_date": letter_date},
        )
    return locked


def ministry_reply_record(
    *,
    application: LicenceApplication,
    user: User,
    reply_number: str,
    reply_date: dt.date,
    now: dt.datetime | None = None,
) -> LicenceApplication:
    now = now_or(now)
    reply_number = _text(reply_number, field="reply_number", limit=100, label=_("Reply number"))
    reply_date = _not_future(reply_date, field="reply_date", today=today_in_china(now))
    with transaction.atomic():
        locked = _lock(application)
        locked.ministry_reply_number, locked.ministry_reply_date = reply_number, reply_date
        _move(
            locked,
            action=Action.MINISTRY_REPLY,
            user=user,
            now=now,
            facts={"reply_number": reply_number, "reply_date": reply_date},
        )
    return locked


def ministry_refuse(
    *, application: LicenceApplication, user: User, reason: str, now: dt.datetime | None = None
) -> None:
    now = now_or(now)
    with transaction.atomic():
        _move(_lock(application), action=Action.MINISTRY_REFUSE, user=user, now=now, reason=reason)


def company_info_complete(
    *,
    application: LicenceApplication,
    user: User,
    platform_name: str,
    app_name: str,
    server_location: str,
    now: dt.datetime | None = None,
) -> LicenceApplication:
    now = now_or(now)
    platform_name = _text(platform_name, field="platform_name", limit=100, label=_("Platform name"))
    app_name = _text(app_name, field="app_name", limit=100, label=_("App name"))
    server_location = _text(server_location, field="server_location", limit=200, label=_("Server location"))
    with transaction.atomic():
        locked = _lock(application)
        locked.platform_name, locked.app_name, locked.server_location = (
            platform_name,
            app_name,
            server_location,
        )
        _move(
            locked,
            action=Action.COMPLETE_INFO,
            user=user,
            now=now,
            facts={"platform_name": platform_name, "app_name": app_name, "server_location": server_location},
        )
    return locked


def test_account_open(
    *, application: LicenceApplication, user: User, account: str, now: dt.datetime | None = None
) -> LicenceApplication:
    now = now_or(now)
    account = _text(account, field="account", limit=100, label=_("Account"))
    with transaction.atomic():
        locked = _lock(application)
        locked.test_account = account
        _move(locked, action=Action.OPEN_TEST_ACCOUNT, user=user, now=now, facts={"test_account": account})
    return locked


def vpn_account_open(
    *, application: LicenceApplication, user: User, account: str, now: dt.datetime | None = None
) -> LicenceApplication:
    now = now_or(now)
    account = _text(account, field="account", limit=100, label=_("Account"))
    with transaction.atomic():
        locked = _lock(application)
        locked.vpn_account = account
        _move(locked, action=Action.OPEN_VPN_ACCOUNT, user=user, now=now, facts={"vpn_account": account})
    return locked


def application_withdraw(
    *, application: LicenceApplication, user: User, reason: str, now: dt.datetime | None = None
) -> None:
    now = now_or(now)
    with transaction.atomic():
        _move(_lock(application), action=Action.WITHDRAW, user=user, now=now, reason=reason)
