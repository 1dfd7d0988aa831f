"""Spec versions: the registry knows the bundled file and extra directories; the diff finds what a
ministry adjustment changed. The second version is a test fixture derived here from the bundled
file (a renamed field, a changed length, an added code, a new required field, a removed interface)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from yunzheng.accounts.services import user_token_create
from yunzheng.conformance.specversions import load_version, spec_diff, spec_versions
from yunzheng.exchange.spec import get_spec
from yunzheng.exchange.spec.loader import DEFAULT_SPEC_PATH, build_spec

from .conftest import Tenant


def _interface(data: dict[str, Any], type_name: str) -> dict[str, Any]:
    return next(i for c in data["categories"] for i in c["interfaces"] if i["type"] == type_name)


def _field(interface: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in interface["fields"] if f["name"] == name)


def adjusted_spec() -> dict[str, Any]:
    data = copy.deepcopy(json.loads(DEFAULT_SPEC_PATH.read_text(encoding="utf-8")))
    data["version"] = "2019.2"
    create = _interface(data, "orderCreate")
    _field(create, "PassengerNote")["name"] = "PassengerRemark"  # renamed, same protobuf number
    _field(_interface(data, "baseInfoVehicle"), "VehicleColor")["length"] = 64  # longer
    operator = _field(_interface(data, "orderCancel"), "Operator")
    operator["enum"] = {**operator["enum"], "4": "客服"}  # a new code
    pay = _interface(data, "operatePay")
    new_field = copy.deepcopy(_field(pay, "FarUpPrice"))
    new_field.update(name="ServiceFee", name_zh="信息服务费", required=True)
    new_field["proto"] = {**new_field["proto"], "number": 99}
    pay["fields"].append(new_field)
    return data


@pytest.fixture
def second_version(settings: Any, tmp_path: Path) -> str:
    (tmp_path / "spec_2019_2.json").write_text(
        json.dumps(adjusted_spec(), ensure_ascii=False), encoding="utf-8"
    )
    settings.CONFORMANCE_SPEC_DIRS = [str(tmp_path)]
    return "2019.2"


def test_the_diff_names_each_adjustment() -> None:
    old = get_spec()
    new = build_spec(adjusted_spec())
    diff = spec_diff(old, new)
    assert (diff.old_version, diff.new_version) == ("2016.1", "2019.2")
    assert not diff.interfaces_added
    assert not diff.interfaces_removed
    changed = {c.type: c for c in diff.interfaces_changed}
    assert set(changed) == {"orderCreate", "baseInfoVehicle", "orderCancel", "operatePay"}
    assert diff.adjusted_interfaces == 4
    renamed = changed["orderCreate"].fields_changed[0]
    assert (renamed.name, renamed.renamed_from) == ("PassengerRemark", "PassengerNote")
    assert not changed["orderCreate"].fields_added
    assert not changed["orderCreate"].fields_removed
    colour = changed["baseInfoVehicle"].fields_changed[0]
    assert [(c.attribute, c.old, c.new) for c in colour.changes] == [("length", 32, 64)]
    assert changed["orderCancel"].fields_changed[0].enum_added == ("4",)
    assert changed["operatePay"].fields_added == (("ServiceFee", "信息服务费"),)
    assert spec_diff(old, old).is_empty


def test_removed_interfaces_are_listed() -> None:
    data = adjusted_spec()
    for category in data["categories"]:
        category["interfaces"] = [i for i in category["interfaces"] if i["type"] != "ratedDriver"]
    data["code_tables"]["IpcType"]["codes"] = {
        k: v for k, v in data["code_tables"]["IpcType"]["codes"].items() if v != "ratedDriver"
    }
    diff = spec_diff(get_spec(), build_spec(data))
    assert [t for t, _ in diff.interfaces_removed] == ["ratedDriver"]
    assert [t for t, _ in spec_diff(build_spec(data), get_spec()).interfaces_added] == ["ratedDriver"]


def test_registry_page_and_api(tenant: Tenant, second_version: str) -> None:
    versions = spec_versions()
    assert [(v.version, v.current) for v in versions] == [("2016.1", True), ("2019.2", False)]
    assert load_version("2019.2") is not None
    assert load_version("1999.9") is None
    page = tenant.client().get("/conformance/spec/", {"old": "2016.1", "new": "2019.2"}).content.decode()
    assert 'data-testid="spec-diff"' in page
    assert "PassengerRemark" in page
    assert "PassengerNote" in page
    assert "ServiceFee" in page
    token = user_token_create(user=tenant.user).token
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = api.get("/api/v1/conformance/spec/diff", {"old": "2016.1", "new": "2019.2"}).json()
    assert body["adjusted_interfaces"] == 4
    unknown = api.get("/api/v1/conformance/spec/diff", {"old": "2016.1", "new": "3000.1"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "conformance.spec_version_unknown")
