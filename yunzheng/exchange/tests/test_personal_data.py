"""Personal data in the exchange (ADR 0005): classified from the spec, never stored in plaintext,
masked on every read, found by the plaintext licence number, forwarded as uploaded."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from django.db import connection
from django.test import Client

from yunzheng.accounts.tests.factories import staff, staff_client
from yunzheng.core.crypto import is_field_token, lookup_hash
from yunzheng.exchange import personal_data
from yunzheng.exchange.forwarding import forward_once, forwarding_subscriber_create
from yunzheng.exchange.ingest import plan_for
from yunzheng.exchange.models import (
    BaseInfoCurrent,
    BaseInfoRecord,
    EventRecord,
    ForwardingOutbox,
    PositionRecord,
    RejectStat,
)
from yunzheng.exchange.personal_data import (
    INTERFACE_FIELDS,
    NOT_PERSONAL,
    PERSONAL_FIELDS,
    PersonalKind,
    for_interface,
    kind_of,
)
from yunzheng.exchange.spec import ValueType, get_spec
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.spec.validation import BEIJING

from .conftest import Uploader
from .test_forwarding import Subscriber

SPEC = get_spec()
PERSONAL_INTERFACES = sorted(t for t in SPEC.interfaces if for_interface(t).any)
NOW = datetime.now(BEIJING).replace(microsecond=0)

#: Chinese names that announce personal data; every field matching one must be classified or exempt.
PERSONAL_WORDS = ("身份证", "驾驶证", "手机", "电话", "姓名", "联系人", "称谓", "住址", "资格证号")


def _t(hours: float) -> int:
    return int((NOW - timedelta(hours=hours)).strftime("%Y%m%d%H%M%S"))


# ---------------------------------------------------------------------------------------------
# the classification
# ---------------------------------------------------------------------------------------------


def test_every_personal_looking_field_of_the_spec_is_classified_or_exempt() -> None:
    missing = [
        f"{iface.type}.{f.name} ({f.name_zh})"
        for iface in SPEC.interfaces.values()
        for f in iface.fields
        if any(word in f.name_zh for word in PERSONAL_WORDS)
        and kind_of(iface.type, f.name) is None
        and f.name not in NOT_PERSONAL
    ]
    assert missing == [], "classify these in personal_data.py (or exempt them with a reason)"


def test_the_tables_name_real_string_fields_and_agree_with_each_other() -> None:
    fields = {(i.type, f.name): f for i in SPEC.interfaces.values() for f in i.fields}
    names = {name for _, name in fields}
    assert set(PERSONAL_FIELDS) <= names
    assert set(NOT_PERSONAL) <= names
    assert set(INTERFACE_FIELDS) <= set(fields)
    for (interface, name), f in fields.items():
        if kind_of(interface, name) is not None:
            # Tokens and hashes are strings: an integer field could not carry one.
            assert f.value_type is ValueType.STRING, f"{interface}.{name}"
    assert not set(PERSONAL_FIELDS) & set(NOT_PERSONAL)
    assert all(reason.strip() for reason in NOT_PERSONAL.values())
    for name, kind in PERSONAL_FIELDS.items():
        assert (kind is PersonalKind.PHONE) == name.endswith("Phone"), name
    # Every personal natural-key field is hashed: LicenseId and PassengerPhone.
    key_fields = {k for t in SPEC.interfaces for k in for_interface(t).key_fields}
    assert key_fields == {"LicenseId", "PassengerPhone"}


# ---------------------------------------------------------------------------------------------
# storage: nothing personal in plaintext, in any exchange table
# ---------------------------------------------------------------------------------------------

_CJK = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"


def _distinct_text(kind: PersonalKind, n: int) -> str:
    """A name or address that occurs nowhere else (so finding it means it was stored in clear)."""
    a, b = _CJK[n % len(_CJK)], _CJK[(n // len(_CJK)) % len(_CJK)]
    if kind is PersonalKind.NAME:
        return f"司徒{a}{b}"
    return f"浙江省杭州市西湖区测试路{a}{b}巷{n}号"


class Uploaded:
    """Records uploaded in a test and the plaintext personal values they carry."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self._n = 0

    def record(self, interface: str, seed: int, **overrides: Any) -> dict[str, Any]:
        # A different time per record: keys such as (CompanyId, UpdateTime) must not collide.
        rec = valid_record(interface, seed=seed, now=NOW - timedelta(minutes=60 + seed), **overrides)
        for name, kind in for_interface(interface).fields:
            if name in overrides or name not in rec:
                continue
            if kind in (PersonalKind.NAME, PersonalKind.ADDRESS):
                self._n += 1
                rec[name] = _distinct_text(kind, self._n)
        for name, _kind in for_interface(interface).fields:
            if type(rec.get(name)) is str and rec[name]:
                self.values.add(rec[name])
        return rec


def _exchange_tables() -> list[str]:
    tables = [t for t in connection.introspection.table_names() if t.startswith("exchange_")]
    assert {"exchange_positionrecord", "exchange_eventrecord", "exchange_forwardingoutbox"} <= set(tables)
    return tables


def _cell_texts(value: Any) -> Iterator[str]:
    if value is None:
        return
    if isinstance(value, dict | list):
        yield json.dumps(value, ensure_ascii=False)
        return
    text = bytes(value).decode("utf-8", "replace") if isinstance(value, bytes | memoryview) else str(value)
    yield text
    if text[:1] in "{[":  # JSON text (\\u escapes from the ORM on SQLite): also its decoded form
        with contextlib.suppress(ValueError):
            yield json.dumps(json.loads(text), ensure_ascii=False)


def database_text() -> str:
    """Every cell of every exchange table, as text, read with raw SQL (no model decrypts anything)."""
    parts: list[str] = []
    with connection.cursor() as cursor:
        for table in _exchange_tables():
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - names from the introspection
            for row in cursor.fetchall():
                for value in row:
                    parts.extend(_cell_texts(value))
    return "\n".join(parts)


def assert_no_plaintext(values: set[str]) -> None:
    text = database_text()
    text_upper = text.upper()  # an ID number's check digit "x" must not hide as "X"
    found = sorted(v for v in values if v in text or v.upper() in text_upper)
    assert found == [], f"plaintext personal data in the exchange tables: {found}"


@pytest.fixture
def province() -> Iterator[Subscriber]:
    sub = Subscriber(fail_first=0)
    yield sub
    sub.close()


@pytest.mark.django_db
def test_uploads_of_every_personal_interface_store_no_plaintext_and_forward_the_originals(
    uploader: Uploader, province: Subscriber
) -> None:
    forwarding_subscriber_create(name="浙江省平台", region_prefix="33", url=province.url, token="t")
    up = Uploaded()
    sent: dict[str, list[dict[str, Any]]] = {}
    for interface in PERSONAL_INTERFACES:
        as_json = [up.record(interface, seed=s, CompanyId=uploader.company_id) for s in (1, 2)]
        as_protobuf = [up.record(interface, seed=s, CompanyId=uploader.company_id) for s in (3, 4)]
        r = uploader.post_json(interface, as_json)
        assert (r.status_code, r.json()["accepted"]) == (200, 2), r.content
        r = uploader.post_protobuf(interface, as_protobuf)
        assert (r.status_code, r.json()["accepted"]) == (200, 2), r.content
        sent[interface] = as_json + as_protobuf
    assert len(up.values) > 100
    assert ForwardingOutbox.objects.count() == 2 * len(PERSONAL_INTERFACES)

    assert_no_plaintext(up.values)

    # Positive control: the typed columns hold the keyed hash the other apps use.
    driver = sent["positionDriver"][0]
    row = PositionRecord.objects.get(license_id=lookup_hash(driver["LicenseId"]), interface=0x4001)
    assert row.vehicle_no == driver["VehicleNo"]
    passenger = sent["baseInfoPassenger"][0]
    assert BaseInfoCurrent.objects.filter(natural_key=lookup_hash(passenger["PassengerPhone"])).exists()
    stored = EventRecord.objects.filter(license_id=lookup_hash(sent["operatePay"][0]["LicenseId"])).get()
    assert is_field_token(stored.payload["DriverName"])

    # Re-sending is still a duplicate (same value -> same hash), in either format.
    for interface in ("baseInfoDriver", "baseInfoPassenger", "operateLogin", "positionDriver", "orderMatch"):
        again = uploader.post_json(interface, sent[interface][2:] + sent[interface][:1]).json()
        assert (again["accepted"], again["duplicates"]) == (0, 3), interface
        again = uploader.post_protobuf(interface, sent[interface][1:2]).json()
        assert (again["accepted"], again["duplicates"]) == (0, 1), interface

    # Forwarding decrypts: the subscriber receives exactly what was uploaded.
    report = forward_once(limit=1000)
    assert report.sent == ForwardingOutbox.objects.count()
    received: dict[str, list[dict[str, Any]]] = {}
    for envelope in province.received:
        received.setdefault(envelope["IPCType"], []).extend(envelope[envelope["IPCType"]])
    for interface in PERSONAL_INTERFACES:
        got = received[interface]
        # The re-sent duplicates were forwarded again (at least once), so compare as sets.
        assert {json.dumps(r, sort_keys=True) for r in got} == {
            json.dumps(r, sort_keys=True) for r in sent[interface]
        }, interface
    assert_no_plaintext(up.values)  # sending changed nothing at rest


@pytest.mark.django_db
def test_base_information_history_and_current_state_with_hashed_keys(uploader: Uploader) -> None:
    licence = "33010619850612123X"

    def driver(flag: int, hours_ago: float, phone: str) -> dict[str, Any]:
        return valid_record(
            "baseInfoDriver",
            seed=1,
            CompanyId=uploader.company_id,
            LicenseId=licence,
            DriverPhone=phone,
            Flag=flag,
            UpdateTime=_t(hours_ago),
        )

    assert uploader.post_json("baseInfoDriver", [driver(1, 5, "13800000001")]).json()["accepted"] == 1
    assert uploader.post_json("baseInfoDriver", [driver(2, 3, "13800000002")]).json()["accepted"] == 1
    assert uploader.post_json("baseInfoDriver", [driver(2, 4, "13800000003")]).json()["accepted"] == 1  # late
    key = lookup_hash(licence)
    current = BaseInfoCurrent.objects.get(natural_key=key)
    assert personal_data.reveal_record("baseInfoDriver", current.payload)["DriverPhone"] == "13800000002"
    # The same licence number with a lower-case check digit is the same driver (normalised hash).
    resend = dict(driver(2, 3, "13800000002"), LicenseId=licence.lower())
    assert uploader.post_json("baseInfoDriver", [resend]).json()["duplicates"] == 1
    assert uploader.post_json("baseInfoDriver", [driver(3, 1, "13800000002")]).json()["accepted"] == 1
    current.refresh_from_db()
    assert (current.flag, current.deleted) == (3, True)
    history = BaseInfoRecord.objects.filter(natural_key=key).order_by("update_time")
    assert [h.flag for h in history] == [1, 2, 2, 3]
    phones = [personal_data.reveal_record("baseInfoDriver", h.payload)["DriverPhone"] for h in history]
    assert phones == ["13800000001", "13800000003", "13800000002", "13800000002"]
    assert_no_plaintext({licence, "13800000001", "13800000002", "13800000003"})


# ---------------------------------------------------------------------------------------------
# reads: masked, and found by the plaintext licence number
# ---------------------------------------------------------------------------------------------

LICENCE = "330106198506121234"
PHONE = "13812345678"
ORDER = "YZ20261121PD000001"


def _upload_a_driver_and_a_trip(u: Uploader) -> None:
    cid = u.company_id
    t0 = NOW - timedelta(hours=2)

    def at(minutes: int) -> int:
        return int((t0 + timedelta(minutes=minutes)).strftime("%Y%m%d%H%M%S"))

    common: dict[str, Any] = {"CompanyId": cid, "LicenseId": LICENCE}
    uploads = {
        "baseInfoDriver": [
            valid_record(
                "baseInfoDriver",
                seed=1,
                DriverPhone=PHONE,
                DriverName="王小明",
                EmergencyContact="李秀英",
                DriverAddress="浙江省杭州市西湖区学院路18号",
                Flag=1,
                UpdateTime=at(-60),
                **common,
            ),
            valid_record("baseInfoDriver", seed=2, CompanyId=cid, Flag=1, UpdateTime=at(-60)),
        ],
        "orderCreate": [valid_record("orderCreate", CompanyId=cid, OrderId=ORDER, OrderTime=at(0))],
        "orderMatch": [
            valid_record(
                "orderMatch",
                OrderId=ORDER,
                DistributeTime=at(1),
                DriverPhone=PHONE,
                VehicleNo="浙AD10001",
                **common,
            )
        ],
        "operateDepart": [
            valid_record("operateDepart", OrderId=ORDER, DepTime=at(10), VehicleNo="浙AD10001", **common)
        ],
        "operateArrive": [valid_record("operateArrive", CompanyId=cid, OrderId=ORDER, DestTime=at(30))],
        "operatePay": [
            valid_record(
                "operatePay",
                OrderId=ORDER,
                DepTime=at(10),
                DestTime=at(30),
                PayTime=at(31),
                DriverName="王小明",
                VehicleNo="浙AD10001",
                **common,
            )
        ],
        # Only the driver's positions (no positionVehicle): the story finds them by the hash.
        "positionDriver": [
            valid_record("positionDriver", seed=m, PositionTime=at(m), OrderId=ORDER, **common)
            for m in range(0, 40, 5)
        ],
    }
    for interface, records in uploads.items():
        assert u.post_json(interface, records).status_code == 200, interface


@pytest.mark.django_db
def test_regulators_see_masked_values_and_find_a_driver_by_the_plaintext_licence(uploader: Uploader) -> None:
    _upload_a_driver_and_a_trip(uploader)
    assert_no_plaintext({LICENCE, PHONE, "王小明", "李秀英", "浙江省杭州市西湖区学院路18号"})
    client = staff_client(staff("hz-transport-pd", level="city", region="330100"))
    base = f"/api/v1/exchange/companies/{uploader.company_id}/drivers"

    drivers = client.get(base).json()
    assert (drivers["count"], drivers["page"], drivers["pages"], len(drivers["items"])) == (2, 1, 1, 2)
    # Pages by number or, as before @paginate, by limit and offset (the same second driver).
    second = client.get(base, {"limit": 1, "page": 2}).json()
    assert (second["count"], second["page"], second["pages"]) == (2, 2, 2)
    assert second["items"] == [drivers["items"][1]]
    assert client.get(base, {"limit": 1, "offset": 1}).json() == second
    assert client.get(base, {"limit": 1, "offset": 0}).json()["items"] == [drivers["items"][0]]
    found = client.get(base, {"q": LICENCE}).json()["items"]
    assert len(found) == 1
    record = found[0]["record"]
    assert found[0]["key"] == "3301**********1234"
    assert (record["LicenseId"], record["DriverPhone"], record["DriverName"]) == (
        "3301**********1234",
        "138****5678",
        "王**",
    )
    assert (record["EmergencyContact"], record["DriverAddress"]) == ("李**", "浙江省杭州市****")
    assert is_field_token(
        BaseInfoCurrent.objects.get(natural_key=lookup_hash(LICENCE)).payload["CertificateNo"]
    )
    assert record["CertificateNo"].count("*") >= 8
    assert client.get(base, {"q": LICENCE.lower()}).json()["items"] == found  # normalised like the hash
    assert client.get(base, {"q": LICENCE[:10]}).json()["items"] == []  # no prefix search on a hash

    story = client.get(f"/api/v1/exchange/orders/{uploader.company_id}/{ORDER}").json()
    assert story["status"] == "paid"
    match = next(e for e in story["events"] if e["interface"] == "orderMatch")["record"]
    assert (match["LicenseId"], match["DriverPhone"]) == ("3301**********1234", "138****5678")
    pay = next(e for e in story["events"] if e["interface"] == "operatePay")["record"]
    assert pay["DriverName"] == "王**"
    assert len(story["positions"]) == 5  # the driver's positions of minutes 10..30, via the hash

    pages = [
        client.get(f"/exchange/staff/companies/{uploader.company_id}/").content.decode(),
        client.get(f"/exchange/staff/orders/{uploader.company_id}/{ORDER}/").content.decode(),
    ]
    answers = [json.dumps(drivers, ensure_ascii=False), json.dumps(story, ensure_ascii=False)]
    for text in pages + answers:
        for plain in (LICENCE, PHONE, "王小明", "李秀英", "学院路18号"):
            assert plain not in text
        assert "sm4gcm:" not in text  # tokens are decrypted and masked, never shown
    assert "3301**********1234" in pages[0]
    assert "138****5678" in pages[0]
    assert "3301**********1234" in pages[1]


@pytest.mark.django_db
def test_rejects_keep_no_values_and_companies_read_only_field_and_rule(uploader: Uploader) -> None:
    bad = valid_record(
        "baseInfoDriver", seed=1, CompanyId=uploader.company_id, LicenseId="３３０１０６１９８５"
    )
    bad_phone = valid_record("orderMatch", seed=1, CompanyId=uploader.company_id, DriverPhone="1" * 40)
    assert uploader.post_json("baseInfoDriver", [bad]).status_code == 422
    assert uploader.post_json("orderMatch", [bad_phone]).status_code == 422
    stored = list(RejectStat.objects.values_list("field", "code"))
    assert {f for f, _ in stored} == {"LicenseId", "DriverPhone"}
    assert_no_plaintext({bad["LicenseId"], bad_phone["DriverPhone"], bad["DriverPhone"], bad["DriverName"]})
    own = Client(HTTP_AUTHORIZATION=f"Bearer {uploader.token}")
    text = own.get("/api/v1/exchange/rejects").content.decode()
    assert "LicenseId" in text
    assert bad["LicenseId"] not in text
    assert bad_phone["DriverPhone"] not in text


@pytest.mark.django_db
def test_stored_plaintext_of_old_rows_is_still_masked_on_read() -> None:
    record = {"LicenseId": LICENCE, "DriverPhone": PHONE, "DriverName": "王小明", "Seats": 5}
    assert personal_data.mask_record("baseInfoDriver", record) == {
        "LicenseId": "3301**********1234",
        "DriverPhone": "138****5678",
        "DriverName": "王**",
        "Seats": 5,
    }
    assert personal_data.masked(PersonalKind.PHONE, "sm4gcm:t1:AAAA") == "***"  # a broken token


# ---------------------------------------------------------------------------------------------
# logs and forwarding errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_nothing_personal_reaches_logs_or_stored_forwarding_errors(
    uploader: Uploader, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    """caplog sees the records before any handler filter: the exchange must not log them at all."""
    import http.server
    import threading

    class Echo(http.server.BaseHTTPRequestHandler):  # a subscriber that echoes what it refused
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"rejected: " + body[:400])

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.EXCHANGE_FORWARD_MAX_ATTEMPTS = 1
        forwarding_subscriber_create(
            name="全国", region_prefix="", url=f"http://127.0.0.1:{server.server_port}/"
        )
        caplog.set_level(logging.DEBUG)
        rec = valid_record(
            "orderMatch", seed=1, CompanyId=uploader.company_id, LicenseId=LICENCE, DriverPhone=PHONE
        )
        assert uploader.post_json("orderMatch", [rec]).status_code == 200
        assert forward_once().failed == 1
    finally:
        server.shutdown()
        server.server_close()
    row = ForwardingOutbox.objects.get()
    assert row.status == "failed"
    assert "rejected" in row.last_error
    assert LICENCE not in row.last_error
    assert PHONE not in row.last_error
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "failed for good" in logged
    assert LICENCE not in logged
    assert PHONE not in logged
    assert_no_plaintext({LICENCE, PHONE})


# ---------------------------------------------------------------------------------------------
# migration 0002: rows stored before it are protected in place
# ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_migration_protects_rows_stored_in_plaintext_before_it(uploader: Uploader) -> None:
    up = Uploaded()
    interfaces = ("positionDriver", "orderMatch", "baseInfoDriver", "baseInfoPassenger")
    records = {t: [up.record(t, seed=s, CompanyId=uploader.company_id) for s in (1, 2)] for t in interfaces}
    for interface, recs in records.items():
        assert uploader.post_json(interface, recs).json()["accepted"] == 2
    # Put the plaintext back, as 0001-era ingest stored it.
    with connection.cursor() as cursor:
        for rec in records["positionDriver"]:
            cursor.execute(
                "UPDATE exchange_positionrecord SET license_id = %s WHERE license_id = %s",
                [rec["LicenseId"], lookup_hash(rec["LicenseId"])],
            )
        for table in ("exchange_eventrecord", "exchange_baseinforecord", "exchange_baseinfocurrent"):
            cursor.execute(f"SELECT id, interface, payload FROM {table}")  # noqa: S608
            for row_id, code, payload in cursor.fetchall():
                interface = SPEC.interface(code).type
                plain = personal_data.reveal_record(interface, _as_dict(payload))
                sets = "payload = %s, natural_key = %s" + (", license_id = %s" if "event" in table else "")
                params = [
                    msgspec.json.encode(plain).decode(),
                    plan_for(SPEC.interface(code)).natural_key(plain),
                ]
                if "event" in table:
                    params.append(plain.get("LicenseId", ""))
                cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [*params, row_id])  # noqa: S608
    with pytest.raises(AssertionError, match="plaintext personal data"):
        assert_no_plaintext(up.values)

    migration = importlib.import_module("yunzheng.exchange.migrations.0002_personal_data_hashed_keys")

    editor = SimpleNamespace(connection=connection)
    migration.protect_existing_rows(None, editor)
    migration.protect_existing_rows(None, editor)  # idempotent

    assert_no_plaintext(up.values)
    for interface, recs in records.items():  # and the protected rows are the ones ingest writes
        answer = uploader.post_json(interface, recs).json()
        assert (answer["accepted"], answer["duplicates"]) == (0, 2), interface
    driver = records["baseInfoDriver"][0]
    current = BaseInfoCurrent.objects.get(natural_key=lookup_hash(driver["LicenseId"]))
    assert personal_data.reveal_record("baseInfoDriver", current.payload) == driver


def _as_dict(payload: Any) -> dict[str, Any]:
    return json.loads(payload) if isinstance(payload, str) else dict(payload)


def test_masks_never_show_more_than_they_should() -> None:
    assert personal_data.mask_address("浙江省杭州市西湖区学院路18号") == "浙江省杭州市****"
    assert personal_data.mask_address("西湖区") == "西****"
    assert re.fullmatch(r"[0-9a-f]{64}", personal_data.lookup_key(" 33010619850612123x "))
    assert personal_data.lookup_key("  ") == ""
