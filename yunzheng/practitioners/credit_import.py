"""The `credit-results` registry feed: credit assessment results from the province's assessment
system, one row per certificate and cycle, idempotent by that pair (services.credit_results)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunzheng.core import bulk_import
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.bulk_import import ImportReport, RowInvalid
from yunzheng.core.clock import today_in_china
from yunzheng.core.errors import DomainError, ValidationFailed
from yunzheng.practitioners.models import CreditGrade, QualificationCertificate
from yunzheng.practitioners.services.credit_results import credit_result_validate, credit_result_write

KIND = "credit-results"
COLUMNS = ("certificate_number", "cycle_year", "grade", "assessed_on", "authority")
REQUIRED = COLUMNS


def _row(row: dict[str, str], *, actor: Actor, dry_run: bool, region_prefix: str, now: dt.datetime) -> str:
    number = bulk_import.text(row, "certificate_number", max_length=32)
    year_text = bulk_import.text(row, "cycle_year", max_length=4)
    if not year_text.isdigit():
        raise RowInvalid("cycle_year", "import.year_invalid", _("A year such as 2025."))
    grade = bulk_import.choice(row, "grade", CreditGrade.values)
    assessed_on = bulk_import.required_date(row, "assessed_on")
    authority = credit_result_validate(
        cycle_year=int(year_text),
        grade=grade,
        assessed_on=assessed_on,
        authority=bulk_import.text(row, "authority", max_length=100),
        today=today_in_china(now),
    )
    certificate = QualificationCertificate.objects.select_for_update().filter(number=number).first()
    if certificate is None:
        raise RowInvalid("certificate_number", "certificate.unknown", _("No certificate with this number."))
    if not certificate.region_code.startswith(region_prefix):
        raise RowInvalid(
            "certificate_number", "region.out_of_scope", _("This region is outside your authority.")
        )
    _assessment, outcome = credit_result_write(
        certificate=certificate,
        cycle_year=int(year_text),
        grade=grade,
        assessed_on=assessed_on,
        authority=authority,
        actor=actor,
        now=now,
        dry_run=dry_run,
    )
    return outcome


def credit_results_import(
    *,
    rows: Iterable[Mapping[str, str]],
    actor: Actor,
    dry_run: bool = False,
    region_prefix: str = "",
    now: dt.datetime | None = None,
) -> ImportReport:
    """Validate and write credit-result rows; bad rows are rejected with field and rule."""
    now = now or timezone.now()
    report = ImportReport(kind=KIND)
    for index, row in enumerate(rows, start=1):
        report.rows += 1
        try:
            with transaction.atomic():
                outcome = _row(dict(row), actor=actor, dry_run=dry_run, region_prefix=region_prefix, now=now)
        except RowInvalid as problem:
            report.reject(index, problem.field, problem.code, problem.message)
            continue
        except ValidationFailed as error:
            detail = error.details[0] if error.details else None
            report.reject(
                index,
                detail.field if detail else "",
                detail.code if detail else error.code,
                detail.message if detail else str(error.message),
            )
            continue
        except DomainError as error:
            report.reject(index, "certificate_number", error.code, str(error.message))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    if not dry_run and (report.created or report.updated):
        record_audit(
            actor=actor,
            action="registry.import",
            target_type="registry",
            target_id=KIND,
            after={k: v for k, v in report.as_dict().items() if k != "rejected"}
            | {"rejected": len(report.rejected)},
        )
    return report
