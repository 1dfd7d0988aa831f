"""licence_sync and the status services: versions, history, the ministry index, one transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from yunzheng.core.errors import Conflict, ValidationFailed
from yunzheng.core.models import AuditEntry
from yunzheng.elicense import services
from yunzheng.elicense.models import ElectronicLicence, LicenceEvent, MinistryIndexEntry
from yunzheng.elicense.tests.conftest import SYSTEM, sync_licence, today


def test_first_sync_issues_version_one_with_index_and_audit(keys, holder):
    licence = sync_licence(holder)
    assert licence.lid.startswith(f"33-QC-{today().year}-")
    assert (licence.version, licence.status, licence.issuer_province) == (1, "valid", "330000")
    assert licence.holder_id_hash
    assert licence.holder_name == holder.real_name
    entry = MinistryIndexEntry.objects.get(licence=licence)
    assert (entry.lid, entry.version, entry.status, entry.holder_id_hash) == (
        licence.lid,
        1,
        "valid",
        licence.holder_id_hash,
    )
    assert list(licence.events.values_list("version", "kind", "to_status")) == [(1, "issue", "valid")]
    assert AuditEntry.objects.filter(action="elicense.licence.issue", target_id=licence.lid).exists()


def test_every_event_bumps_the_version(keys, holder):
    licence = sync_licence(holder)
    licence = sync_licence(
        holder, event="annual_inspection", data={**licence.data, "last_inspection_on": "2026-03-01"}
    )
    licence = sync_licence(holder, event="credit_evaluation", data={**licence.data, "grade": "AAA"})
    assert licence.version == 3
    licence = sync_licence(holder, event="cancel", reason="holder request")
    assert (licence.version, licence.status, licence.status_reason) == (4, "revoked", "holder request")
    # A change on a cancelled licence does not revive it; re-issue does.
    licence = sync_licence(holder, event="change", data={**licence.data, "grade": "AA"})
    assert (licence.version, licence.status) == (5, "revoked")
    licence = sync_licence(holder, event="issue")
    assert (licence.version, licence.status) == (6, "valid")
    kinds = list(licence.events.order_by("version").values_list("kind", flat=True))
    assert kinds == ["issue", "annual_inspection", "credit_evaluation", "cancel", "change", "issue"]
    assert MinistryIndexEntry.objects.get(licence=licence).version == 6


def test_unchanged_change_is_a_no_op(keys, holder):
    licence = sync_licence(holder)
    again = sync_licence(holder, event="change")
    assert again.version == licence.version == 1
    assert LicenceEvent.objects.filter(licence=licence).count() == 1


def test_expired_dates_give_expired_status(keys, holder):
    licence = sync_licence(
        holder, valid_from=today() - dt.timedelta(days=30), valid_until=today() - dt.timedelta(days=1)
    )
    assert licence.status == "expired"


def test_sync_rolls_back_with_the_registry_transaction(keys, holder):
    def registry_service() -> None:
        with transaction.atomic():
            sync_licence(holder, source_id="rolled-back")
            raise RuntimeError("the registry's own write failed")

    with pytest.raises(RuntimeError):
        registry_service()
    assert not ElectronicLicence.objects.filter(source_id="rolled-back").exists()
    assert not MinistryIndexEntry.objects.filter(licence__source_id="rolled-back").exists()


def test_sync_validates_input(keys, holder):
    with pytest.raises(ValidationFailed) as info:
        sync_licence(
            holder,
            issuer_region="999999",
            licence_type="nonsense",
            data={"plate": "x" * 41},
            valid_from=today(),
            valid_until=today() - dt.timedelta(days=1),
        )
    fields = {detail.field for detail in info.value.details}
    assert {"issuer_region", "licence_type", "data.plate", "valid_until"} <= fields
    with pytest.raises(Conflict):
        sync_licence(holder, source_id="never-issued", event="cancel")


def test_type_of_a_record_cannot_change(keys, holder):
    sync_licence(holder)
    with pytest.raises(Conflict):
        sync_licence(holder, licence_type="credit_voucher")


def test_revoke_suspend_reinstate(keys, licence):
    with pytest.raises(ValidationFailed):
        services.licence_suspend(licence=licence, actor=SYSTEM, reason=" ")
    suspended = services.licence_suspend(licence=licence, actor=SYSTEM, reason="inspection pending")
    assert (suspended.status, suspended.version) == ("suspended", 2)
    with pytest.raises(Conflict):
        services.licence_suspend(licence=suspended, actor=SYSTEM, reason="again")
    reinstated = services.licence_reinstate(licence=suspended, actor=SYSTEM, reason="inspection passed")
    assert (reinstated.status, reinstated.version) == ("valid", 3)
    revoked = services.licence_revoke(licence=reinstated, actor=SYSTEM, reason="fraud")
    assert (revoked.status, revoked.version) == ("revoked", 4)
    assert MinistryIndexEntry.objects.get(licence=licence).status == "revoked"
    with pytest.raises(Conflict):
        services.licence_sign(licence=revoked)


def test_expire_due(keys, holder):
    licence = sync_licence(holder)
    later = dt.datetime.combine(licence.valid_until + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    assert services.licence_expire_due(now=later) == 1
    licence.refresh_from_db()
    assert (licence.status, licence.version) == ("expired", 2)
    assert services.licence_expire_due(now=later) == 0


def test_signing_needs_a_key(db, holder):
    licence = sync_licence(holder)
    with pytest.raises(Conflict) as info:
        services.licence_sign(licence=licence)
    assert info.value.code == "signing_key.missing"


def test_company_holder(keys, holder, company):
    licence = sync_licence(
        holder,
        source_id="co",
        holder_user=None,
        holder_company=company,
        holder_name=company.name,
        holder_id_number=company.credit_code,
    )
    assert licence.holder_kind == "company"
    assert licence.holder_display == company.name  # companies are not masked
    assert services.user_holds_licence(user=holder, licence=licence)  # a member of the company
