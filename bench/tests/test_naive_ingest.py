"""Self-checks of the ingest benchmark's baseline (bench/_naive_ingest.py): the naive writers
store, deduplicate and protect personal data exactly as the product's writers do, so the
benchmark compares like with like."""

from __future__ import annotations

import pytest

from bench import _naive_ingest
from yunzheng.exchange.ingest import ingest_batch, writers
from yunzheng.exchange.spec import get_spec
from yunzheng.exchange.spec.samples import valid_record
from yunzheng.exchange.tests.conftest import Uploader
from yunzheng.exchange.tests.test_personal_data import Uploaded, assert_no_plaintext


def test_installed_swaps_the_writers_for_the_block_only() -> None:
    product = dict(writers.WRITERS)
    with _naive_ingest.installed():
        assert writers.WRITERS == _naive_ingest.NAIVE_WRITERS
    assert product == writers.WRITERS


@pytest.mark.django_db
@pytest.mark.parametrize("interface", ["positionVehicle", "operatePay", "baseInfoDriver"])
def test_naive_writers_store_the_same(uploader: Uploader, interface: str) -> None:
    iface = get_spec().interface(interface)
    records = [valid_record(interface, seed=i, CompanyId=uploader.company_id) for i in range(3)]
    with _naive_ingest.installed():
        first = ingest_batch(
            credential=uploader.credential, interface=iface, records=records + records[:1], wire_format="json"
        )
    assert (first.accepted, first.duplicates) == (3, 1)
    # The product's writers compute the same keys: everything is a duplicate.
    again = ingest_batch(credential=uploader.credential, interface=iface, records=records, wire_format="json")
    assert (again.accepted, again.duplicates) == (0, 3)


@pytest.mark.django_db
@pytest.mark.parametrize("interface", ["positionDriver", "operatePay", "baseInfoDriver", "baseInfoPassenger"])
def test_naive_writers_protect_personal_data_the_same(uploader: Uploader, interface: str) -> None:
    up = Uploaded()
    records = [up.record(interface, seed=s, CompanyId=uploader.company_id) for s in range(3)]
    iface = get_spec().interface(interface)
    with _naive_ingest.installed():
        first = ingest_batch(
            credential=uploader.credential, interface=iface, records=records, wire_format="json"
        )
    assert first.accepted == 3
    assert_no_plaintext(up.values)
    again = ingest_batch(credential=uploader.credential, interface=iface, records=records, wire_format="json")
    assert (again.accepted, again.duplicates) == (0, 3)
