"""Issue #17 item 5 (in part): the evaluations come from a register of qualified agencies with
authorisation dates (an expired authorisation is refused); the level-3 evaluation carries its
filing number with the public-security department. (The compliance flag when a level-3 evaluation
lapses after the grant: test_compliance_flags.py.)"""

from __future__ import annotations

import datetime as dt

import pytest

from yunzheng.core.errors import PermissionDenied, ValidationFailed
from yunzheng.licensing import services
from yunzheng.licensing.models import SecurityEvaluation
from yunzheng.licensing.tests.factories import at, company_with_contact, officials, pdf_upload

pytestmark = pytest.mark.django_db
D = dt.date


def test_only_agencies_authorised_on_the_issue_date_are_accepted_and_level3_needs_its_filing_number() -> None:
    now = at(2026, 3, 2)
    company, user = company_with_contact()
    who = officials()
    with pytest.raises(PermissionDenied):
        services.evaluation_agency_register(user=who.city, name="某测评机构", authorised_from=D(2024, 1, 1))
    services.evaluation_agency_register(
        user=who.ministry, name="甲测评中心", authorised_from=D(2024, 1, 1), authorised_until=D(2025, 12, 31)
    )

    def record(agency: str, kind: str = "network_protection", filing: str = "") -> SecurityEvaluation:
        return services.security_evaluation_record(
            company=company,
            kind=kind,
            agency=agency,
            report_number="R-1",
            issued_on=D(2026, 2, 1),
            upload=pdf_upload(),
            user=user,
            filing_number=filing,
            now=now,
        )

    with pytest.raises(ValidationFailed) as unknown:
        record("乙测评中心")
    assert (unknown.value.details[0].field, unknown.value.code) == (
        "agency",
        "evaluation.agency_not_qualified",
    )
    with pytest.raises(ValidationFailed) as expired:
        record("甲测评中心")  # authorisation ended 2025-12-31, report of 2026-02-01
    assert expired.value.code == "evaluation.agency_authorisation_expired"
    services.evaluation_agency_register(
        user=who.ministry, name="甲测评中心", authorised_from=D(2024, 1, 1), authorised_until=D(2028, 12, 31)
    )
    accepted = record("甲测评中心")
    assert accepted.agency_ref is not None
    assert accepted.agency_ref.name == "甲测评中心"
    with pytest.raises(ValidationFailed) as no_filing:
        record("甲测评中心", kind="level3")
    assert no_filing.value.details[0].field == "filing_number"
    level3 = record("甲测评中心", kind="level3", filing="33010013001-26009")
    assert level3.filing_number == "33010013001-26009"
