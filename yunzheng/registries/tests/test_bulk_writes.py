"""The bulk writes behind the registry imports store what the ORM stores: `core.bulk_insert`
(binary COPY on PostgreSQL, bulk_create elsewhere) with encrypted fields, tokens, defaults and
JSON; `field__any` (one array parameter) finds what `__in` finds; an imported certificate and its
electronic licence hold the same personal data, encrypted, with a content hash that checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from yunzheng.core.bulk_insert import insert_rows
from yunzheng.core.crypto import decrypt_field, encrypt_field, is_active_field_token, lookup_hash
from yunzheng.elicense.models import ElectronicLicence
from yunzheng.elicense.services.sync import licence_content_hash
from yunzheng.elicense.tests.conftest import resident_id
from yunzheng.practitioners.licences import certificate_licence
from yunzheng.practitioners.models import QualificationCertificate
from yunzheng.practitioners.registry_import import COLUMNS
from yunzheng.registries.tests.test_import import cert_row, run, write_csv

pytestmark = pytest.mark.django_db


def _certificate(number: str, **values: Any) -> dict[str, Any]:
    now = timezone.now()
    id_number = resident_id("330102")
    return {
        "number": number,
        "holder_name": "张三",
        "holder_id_number": id_number,
        "holder_id_hash": lookup_hash(id_number),
        "issuing_authority": "杭州市道路运输管理服务中心",
        "region_code": "330100",
        "first_issued_on": dt.date(2020, 3, 1),
        "valid_from": dt.date(2024, 3, 1),
        "valid_until": dt.date(2030, 2, 28),
        "created_at": now,
        "updated_at": now,
        **values,
    }


_STORED = {
    column: f"SELECT {column} FROM practitioners_qualificationcertificate WHERE id = %s"  # noqa: S608
    for column in ("holder_name", "holder_id_number")
}


def _stored(column: str, pk: int) -> str:
    """The column as stored (the ciphertext), read around the model field."""
    with connection.cursor() as cursor:
        cursor.execute(_STORED[column], [pk])
        value: str = cursor.fetchone()[0]
    return value


def test_insert_rows_encrypts_keeps_tokens_and_fills_defaults(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_ACTIVE_KEY_ID = "t0"
    old_token = encrypt_field("李四")  # under a key that is no longer the active one
    settings.FIELD_ENCRYPTION_ACTIVE_KEY_ID = "t1"
    active_token = encrypt_field("王五")
    ids = insert_rows(
        QualificationCertificate,
        [
            _certificate("B-1"),
            _certificate("B-2", holder_name=active_token, holder_address=None),
            _certificate("B-3", holder_name=old_token, holder_address="杭州市西湖区"),
        ],
    )
    assert len(ids) == 3
    first, second, third = (QualificationCertificate.objects.get(pk=pk) for pk in ids)
    assert [c.number for c in (first, second, third)] == ["B-1", "B-2", "B-3"]
    assert (first.holder_name, second.holder_name, third.holder_name) == ("张三", "王五", "李四")
    assert (first.status, first.version, first.service_unit) == ("valid", 1, "")  # model defaults
    assert (second.holder_address, third.holder_address) == (None, "杭州市西湖区")
    stored_first = _stored("holder_name", ids[0])
    assert "张三" not in stored_first
    assert is_active_field_token(stored_first)
    assert decrypt_field(_stored("holder_id_number", ids[0])) == first.holder_id_number
    stored_third = _stored("holder_name", ids[2])
    assert is_active_field_token(stored_third)  # re-encrypted under the active key
    assert decrypt_field(stored_third) == "李四"
    if connection.vendor == "postgresql":
        assert _stored("holder_name", ids[1]) == active_token  # stored as it is, not twice sealed


def test_any_lookup_finds_what_in_finds() -> None:
    ids = insert_rows(QualificationCertificate, [_certificate(f"A-{i}") for i in range(5)])
    wanted = ["A-1", "A-3", "A-9", None]
    by_any = set(QualificationCertificate.objects.filter(number__any=wanted).values_list("pk", flat=True))
    by_in = set(QualificationCertificate.objects.filter(number__in=wanted).values_list("pk", flat=True))
    assert by_any == by_in == {ids[1], ids[3]}
    assert not QualificationCertificate.objects.filter(number__any=[]).exists()
    excluded = QualificationCertificate.objects.exclude(number__any=["A-0", "A-4"]).count()
    assert excluded == 3


def test_an_imported_certificate_and_its_licence_hold_the_same_data(tmp_path: Path) -> None:
    id_number = resident_id("330106")
    run(
        "qualification-certificates",
        str(write_csv(tmp_path / "a.csv", COLUMNS, [cert_row("N-7", id_number, name="赵六")], bom=False)),
    )
    certificate = QualificationCertificate.objects.get(number="N-7")
    licence = certificate_licence(certificate)
    assert licence is not None
    assert (licence.holder_name, licence.holder_id_number) == ("赵六", id_number)
    assert (certificate.holder_name, certificate.holder_id_number) == ("赵六", id_number)
    assert licence.content_hash == licence_content_hash(licence) == licence.index_entry.content_hash
    assert licence.data["categories"] == ["巡游出租汽车驾驶员", "网络预约出租汽车驾驶员"]
    assert licence.data["first_issued_on"] == "2020-03-01"
    assert list(licence.events.values_list("changed_fields", flat=True)) == [["issued"]]
    raw = ElectronicLicence.objects.filter(pk=licence.pk).values_list("holder_id_number", flat=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT holder_id_number FROM elicense_electroniclicence WHERE id = %s", [licence.pk])
        stored = cursor.fetchone()[0]
    assert id_number not in stored
    assert list(raw) == [id_number]
