"""Compliance flags on licensed companies (issue #17 item 5).

A level-3 protection evaluation that lapses after the licence was granted is more than a reminder:
the reminders task (:func:`compliance_flags_raise`, from ``licensing_reminders``) raises a flag on
the company, shown to the city transport authority and the police of every city where the company
holds a valid licence, and tells them on their dashboards. Filing a new valid level-3 evaluation
clears it (:func:`compliance_flags_clear_for`, called by ``security_evaluation_record``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from yunzheng.accounts.models import Company, StaffProfile
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.clock import today_in_china
from yunzheng.licensing import deadlines, selectors
from yunzheng.licensing.models import (
    ComplianceFlag,
    Notification,
    OperatingLicence,
    Party,
    SecurityEvaluation,
)
from yunzheng.licensing.services._common import notify

# The offices that see a flag, per licence city: the city's transport authority and its police.
FLAG_OFFICES = (
    (StaffProfile.Department.TRANSPORT, StaffProfile.Level.CITY),
    (StaffProfile.Department.PUBLIC_SECURITY, StaffProfile.Level.CITY),
)


def _licence_cities(company: Company, *, on: dt.date) -> list[str]:
    return sorted(
        set(
            OperatingLicence.objects.filter(company=company, valid_until__gte=on).values_list(
                "city_code", flat=True
            )
        )
    )


def _tell_offices(
    flag: ComplianceFlag, *, cities: list[str], text: str, now: dt.datetime, event: str
) -> None:
    for city in cities:
        for department, level in FLAG_OFFICES:
            key = f"flag-{event}:{flag.pk}:{department}:{city}"
            if Notification.objects.filter(dedupe_key=key).exists():
                continue
            Notification.objects.create(
                department=department,
                level=level,
                region_code=city,
                text=text,
                link="/licensing/staff/",
                created_at=now,
                dedupe_key=key,
            )


def compliance_flags_raise(*, now: dt.datetime) -> int:
    """Raise a flag on every company holding a valid licence whose level-3 evaluation is no longer
    valid (once per lapse; the open flag stays until cleared). Returns how many were raised."""
    today = today_in_china(now)
    raised = 0
    licensed = Company.objects.filter(operating_licences__valid_until__gte=today).distinct()
    flagged = set(
        ComplianceFlag.objects.filter(
            kind=ComplianceFlag.Kind.LEVEL3_LAPSED, cleared_at__isnull=True
        ).values_list("company_id", flat=True)
    )
    with translation.override(settings.LANGUAGE_CODE):
        for company in licensed.exclude(pk__in=flagged).select_related("contact_user"):
            current = selectors.current_evaluations(company).get(SecurityEvaluation.Kind.LEVEL3)
            if current is not None and deadlines.is_valid_on(current.valid_until, today):
                continue
            if current is not None and current.valid_until is not None:
                detail = _(
                    "The level-3 protection evaluation (report %(number)s, filing %(filing)s) "
                    "lapsed on %(date)s."
                ) % {
                    "number": current.report_number,
                    "filing": current.filing_number or "—",
                    "date": current.valid_until.isoformat(),
                }
            else:
                detail = _("No level-3 protection evaluation is on record.")
            flag = ComplianceFlag.objects.create(
                company=company,
                kind=ComplianceFlag.Kind.LEVEL3_LAPSED,
                detail=detail,
                lapsed_evaluation=current,
                raised_at=now,
            )
            record_audit(
                actor=Actor.system("licensing_reminders"),
                action="licensing.compliance_flag.raise",
                target_type="company",
                target_id=company.pk,
                after={"flag": flag.pk, "kind": flag.kind, "evaluation": current.pk if current else None},
            )
            text = _("Compliance flag on %(company)s: %(detail)s") % {
                "company": company.name,
                "detail": detail,
            }
            _tell_offices(flag, cities=_licence_cities(company, on=today), text=text, now=now, event="raise")
            notify(
                party=Party.COMPANY,
                application=None,
                company=company,
                text=text + " " + _("File a new evaluation to clear it."),
                link=f"/licensing/companies/{company.pk}/evaluations/",
                dedupe_key=f"flag:{flag.pk}:company",
                now=now,
            )
            raised += 1
    return raised


def compliance_flags_clear_for(
    *, company: Company, evaluation: SecurityEvaluation, actor: Actor, now: dt.datetime
) -> int:
    """Clear the company's open level-3 flag when `evaluation` is a level-3 evaluation valid
    today (call inside the recording transaction). Returns how many were cleared."""
    if evaluation.kind != SecurityEvaluation.Kind.LEVEL3:
        return 0
    if not deadlines.is_valid_on(evaluation.valid_until, today_in_china(now)):
        return 0
    cleared = 0
    for flag in ComplianceFlag.objects.select_for_update().filter(
        company=company, kind=ComplianceFlag.Kind.LEVEL3_LAPSED, cleared_at__isnull=True
    ):
        flag.cleared_at = now
        flag.cleared_by_evaluation = evaluation
        flag.save(update_fields=["cleared_at", "cleared_by_evaluation"])
        record_audit(
            actor=actor,
            action="licensing.compliance_flag.clear",
            target_type="company",
            target_id=company.pk,
            after={"flag": flag.pk, "evaluation": evaluation.pk},
        )
        with translation.override(settings.LANGUAGE_CODE):
            text = _("Compliance flag on %(company)s cleared: new level-3 evaluation %(number)s filed.") % {
                "company": company.name,
                "number": evaluation.report_number,
            }
        _tell_offices(
            flag, cities=_licence_cities(company, on=today_in_china(now)), text=text, now=now, event="clear"
        )
        cleared += 1
    return cleared
