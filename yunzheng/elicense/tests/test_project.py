"""Demo data, management commands and the trust-list endpoints."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from yunzheng.elicense import demo, verifier
from yunzheng.elicense.models import ElectronicLicence, SigningKey, TrafficPassApplication, VehicleViolation


def test_demo_loads_twice_without_duplicates(db, client):
    first = demo.load_demo()
    counts = (
        SigningKey.objects.count(),
        ElectronicLicence.objects.count(),
        TrafficPassApplication.objects.count(),
    )
    second = demo.load_demo()
    assert counts == (
        SigningKey.objects.count(),
        ElectronicLicence.objects.count(),
        TrafficPassApplication.objects.count(),
    )
    assert SigningKey.objects.filter(province="330000").count() == 2  # one rotated
    assert SigningKey.objects.filter(province="330000", status="retired").count() == 1
    assert VehicleViolation.objects.filter(resolved_at__isnull=True).count() == 1
    assert set(TrafficPassApplication.objects.values_list("status", flat=True)) == {"approved", "submitted"}
    assert len(first) == len(second)
    sample = next(login.where for login in second if login.where.startswith("/V/YZ1:"))
    page = client.get(sample)
    assert 'data-result="valid"' in page.content.decode()


def test_keys_command_and_trust_list_endpoints(db, client):
    out = StringIO()
    call_command("elicense_keys", "create", "--province", "120000", stdout=out)
    kid = out.getvalue().strip()
    call_command("elicense_keys", "rotate", "--province", "120000", stdout=StringIO())
    listing = StringIO()
    call_command("elicense_keys", "list", stdout=listing)
    assert kid in listing.getvalue()
    assert "retired" in listing.getvalue()
    root = client.get("/api/v1/elicense/trust-list/root").json()
    assert root["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    document = client.get("/api/v1/elicense/trust-list").json()
    trust_list = verifier.load_trust_list(
        document, root_public_key_hex=verifier.public_key_from_pem(root["public_key_pem"]), now=timezone.now()
    )
    assert kid in trust_list.keys
    assert trust_list.keys[kid].status == "retired"
    exported = StringIO()
    call_command("elicense_keys", "trust-list", stdout=exported)
    assert json.loads(exported.getvalue())["format"] == verifier.TRUST_LIST_FORMAT
    pem = StringIO()
    call_command("elicense_keys", "root-key", stdout=pem)
    assert pem.getvalue() == root["public_key_pem"]
