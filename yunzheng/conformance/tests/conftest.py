"""Shared fixtures: companies with a contact person and credentials, staff, small traffic."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from django.test import Client

from yunzheng.accounts.credentials import company_credential_create
from yunzheng.accounts.models import Company, CompanyCredential, User
from yunzheng.accounts.services import company_register, realname_verification_record_in_person
from yunzheng.accounts.tests.factories import credit_code, id_number, staff
from yunzheng.core.audit import Actor
from yunzheng.core.crypto import lookup_hash
from yunzheng.exchange.spec import get_spec

_numbers = itertools.count(1)

#: Small traffic for the per-check campaigns: 40 orders, about 15 completed and 25 cancelled.
SMALL: dict[str, Any] = {"drivers": 10, "orders": 40, "cancel_share": 0.3, "position_interval": 60, "seed": 3}


@dataclass
class Tenant:
    company: Company
    user: User  # the designated contact person, a member
    sandbox: CompanyCredential
    sandbox_token: str
    production: CompanyCredential
    production_token: str

    @property
    def company_id(self) -> str:
        return self.company.supervision_company_id

    def client(self) -> Client:
        client = Client()
        client.force_login(self.user)
        return client

    def post(self, interface: str, records: list[Any], *, sandbox: bool = True) -> Any:
        body = msgspec.json.encode(
            {"CompanyId": self.company_id, "Source": "0", "IPCType": interface, interface: records}
        )
        token = self.sandbox_token if sandbox else self.production_token
        return Client().post(
            "/exchange/v1" + get_spec().interface(interface).http_path,
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )


def make_tenant(*, region: str = "330100", company_id: str | None = None) -> Tenant:
    n = next(_numbers)
    phone = f"1370000{n:04d}"
    user = User.objects.create(username=f"conf-{phone}", phone=phone, phone_hash=lookup_hash(phone))
    realname_verification_record_in_person(
        user=user,
        name="李明",
        id_number=id_number(sequence=f"{n % 1000:03d}"),
        ethnicity="汉",
        address="浙江省杭州市西湖区文三路1号",
        recorded_by=Actor.system("test"),
        reason="test",
    )
    user.refresh_from_db()
    company = company_register(
        user=user,
        credit_code=credit_code(f"91330106MA2C{n:05d}"),
        name=f"杭州测试出行科技有限公司{n}",
        legal_representative="李明",
        supervision_company_id=company_id or f"3301TEST{n:04d}",
    )
    Company.objects.filter(pk=company.pk).update(region_code=region)
    company.refresh_from_db()
    sandbox = company_credential_create(company=company, name="sandbox", environment="sandbox")
    production = company_credential_create(company=company, name="live", environment="production")
    return Tenant(company, user, sandbox.credential, sandbox.token, production.credential, production.token)


@pytest.fixture
def tenant(db: Any) -> Tenant:
    return make_tenant()


@pytest.fixture
def regulator(db: Any) -> User:
    """Hangzhou's transport authority (city level)."""
    return staff(f"hz-transport-{next(_numbers)}", department="transport", level="city", region="330100")


@pytest.fixture
def ministry(db: Any) -> User:
    """The ministry of transport: the only one who starts official tests."""
    return staff(f"ministry-{next(_numbers)}", department="transport", level="ministry", region="")


@pytest.fixture
def small_thresholds(settings: Any) -> None:
    """Volume minimums the small traffic meets (the checks' own limits stay at their defaults)."""
    settings.CONFORMANCE_MIN_ORDERS = 10
    settings.CONFORMANCE_MIN_CANCELLATIONS = 10
