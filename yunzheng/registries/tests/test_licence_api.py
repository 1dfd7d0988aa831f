"""Single operating-licence decisions by API (/api/v1/registries/licences): the city's transport
authority issues, changes, renews, suspends, reinstates, revokes and cancels; others are refused
(403); a status that does not allow the step answers 409; malformed input 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from yunzheng.core.models import AuditEntry
from yunzheng.elicense.models import ElectronicLicence
from yunzheng.elicense.tests.conftest import make_staff, staff_client
from yunzheng.licensing.models import OperatingLicence
from yunzheng.licensing.tests.factories import company_with_contact

pytestmark = pytest.mark.django_db
BASE = "/api/v1/registries/licences"


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"{BASE}{path}", body, content_type="application/json")


def _issue_body(credit_code: str, **overrides: str) -> dict[str, str]:
    return {
        "credit_code": credit_code,
        "kind": "national",
        "scope": "网络预约出租汽车客运",
        "area": "杭州市",
        "city_code": "330100",
        "valid_from": "2025-01-01",
        "valid_until": "2028-12-31",
        **overrides,
    }


def test_the_city_runs_a_licence_through_its_lifecycle() -> None:
    company, _user = company_with_contact()
    clerk = staff_client(make_staff("330100", level="city"))
    issued = _post(clerk, "", _issue_body(company.credit_code))
    assert issued.status_code == 201, issued.content
    body = issued.json()
    number = body["number"]
    assert (body["status"], body["version"], body["company_credit_code"]) == ("valid", 1, company.credit_code)
    electronic = ElectronicLicence.objects.get(lid=body["electronic_licence_id"])
    assert electronic.status == "valid"

    changed = _post(clerk, f"/{number}/change", {"area": "杭州市、湖州市", "reason": "经营区域调整"})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["area"], changed.json()["scope"], changed.json()["version"]) == (
        "杭州市、湖州市",
        "网络预约出租汽车客运",
        2,
    )
    renewed = _post(clerk, f"/{number}/renew", {"valid_until": "2032-12-31"})
    assert renewed.status_code == 200, renewed.content
    assert renewed.json()["valid_until"] == "2032-12-31"
    suspended = _post(clerk, f"/{number}/suspend", {"reason": "整改"})
    assert suspended.json()["status"] == "suspended"
    electronic.refresh_from_db()
    assert electronic.status == "suspended"
    reinstated = _post(clerk, f"/{number}/reinstate", {"reason": "整改完成"})
    assert reinstated.json()["status"] == "valid"
    assert clerk.get(f"{BASE}/{number}").json()["version"] == 5

    revoked = _post(clerk, f"/{number}/revoke", {"reason": "严重违法"})
    assert revoked.status_code == 200, revoked.content
    electronic.refresh_from_db()
    assert electronic.status == "revoked"
    events = AuditEntry.objects.filter(action__startswith="licensing.operating_licence.").values_list(
        "action", flat=True
    )
    assert len(events) >= 6

    # Revocation is final: renewing, reinstating or cancelling it is a 409 and changes nothing.
    again = _post(clerk, f"/{number}/renew", {"valid_until": "2036-12-31"})
    assert again.status_code == 409, again.content
    assert again.json()["error"]["code"] == "licence.revoked_final"
    assert _post(clerk, f"/{number}/reinstate", {"reason": "x"}).status_code == 409
    assert _post(clerk, f"/{number}/cancel", {"reason": "x"}).status_code == 409
    licence = OperatingLicence.objects.get(number=number)
    assert (licence.status, licence.valid_until.isoformat(), licence.version) == ("revoked", "2032-12-31", 6)


def test_cancel_and_invalid_transitions() -> None:
    company, _user = company_with_contact()
    clerk = staff_client(make_staff("330100", level="city"))
    number = _post(clerk, "", _issue_body(company.credit_code, number="浙杭网约2025-7")).json()["number"]
    assert number == "浙杭网约2025-7"
    duplicate = _post(clerk, "", _issue_body(company.credit_code, number="浙杭网约2025-7"))
    assert duplicate.status_code == 409
    reinstate = _post(clerk, f"/{number}/reinstate", {"reason": "x"})  # not suspended
    assert reinstate.status_code == 409
    assert reinstate.json()["error"]["code"] == "licence.transition_not_allowed"
    shorter = _post(clerk, f"/{number}/renew", {"valid_until": "2027-01-01"})
    assert shorter.status_code == 422
    assert shorter.json()["error"]["details"][0]["field"] == "valid_until"
    cancelled = _post(clerk, f"/{number}/cancel", {"reason": "企业申请注销"})
    assert cancelled.json()["status"] == "cancelled"
    assert _post(clerk, f"/{number}/change", {"scope": "x", "reason": "x"}).status_code == 409
    assert _post(clerk, "/no-such-licence/suspend", {"reason": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "regional"}, "kind"),
        ({"city_code": "3301"}, "city_code"),
        ({"valid_until": "2028-02-30"}, "valid_until"),
        ({"scope": ""}, "scope"),
        ({"valid_until": "2024-12-31"}, "valid_until"),  # ends before it starts (the service)
        ({"city_code": "990100"}, "city_code"),  # not a GB/T 2260 code (the service)
    ],
)
def test_malformed_input_is_422_naming_the_field(body: dict[str, str], field: str) -> None:
    company, _user = company_with_contact()
    clerk = staff_client(make_staff("330100", level="city"))
    answer = _post(clerk, "", _issue_body(company.credit_code, **body))
    assert answer.status_code == 422, answer.content
    assert field in [d["field"] for d in answer.json()["error"]["details"]]
    assert not OperatingLicence.objects.exists()


def test_others_are_refused() -> None:
    company, _user = company_with_contact()
    clerk = staff_client(make_staff("330100", level="city"))
    number = _post(clerk, "", _issue_body(company.credit_code)).json()["number"]
    refused = {
        "province": staff_client(make_staff("330000")),  # same_city rule: the city decides
        "other city": staff_client(make_staff("330200", level="city")),
        "police": staff_client(make_staff("330100", level="city", department="public_security")),
    }
    for who, client in refused.items():
        answer = _post(client, f"/{number}/suspend", {"reason": "x"})
        assert answer.status_code == 403, (who, answer.content)
        assert answer.json()["error"]["code"] in {"staff.action_not_allowed", "staff.out_of_scope"}
        assert _post(client, "", _issue_body(company.credit_code)).status_code == 403, who
    assert (
        Client()
        .post(f"{BASE}/{number}/suspend", {"reason": "x"}, content_type="application/json")
        .status_code
        == 401
    )
    licence = OperatingLicence.objects.get(number=number)
    assert (licence.status, OperatingLicence.objects.count()) == ("valid", 1)
