"""Shared fixtures: an uploading company with a production credential, and helpers to POST."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from django.test import Client

from yunzheng.accounts.credentials import company_credential_create
from yunzheng.accounts.models import Company, CompanyCredential, User
from yunzheng.accounts.services import company_register, realname_verification_record_in_person
from yunzheng.accounts.tests.factories import credit_code, id_number
from yunzheng.core.audit import Actor
from yunzheng.core.crypto import lookup_hash
from yunzheng.exchange import forwarding
from yunzheng.exchange.spec import get_spec
from yunzheng.exchange.spec.protobuf import encode_otipc
from yunzheng.exchange.spec.samples import SAMPLE_COMPANY_ID

JSON_TYPE = "application/json; charset=utf-8"
PROTOBUF_TYPE = "application/x-protobuf"


@dataclass
class Uploader:
    company: Company
    credential: CompanyCredential
    token: str
    client: Client

    @property
    def company_id(self) -> str:
        return self.company.supervision_company_id

    def url(self, interface: str) -> str:
        return "/exchange/v1" + get_spec().interface(interface).http_path

    def post_json(
        self, interface: str, records: list[Any], *, company_id: str | None = None, **extra: Any
    ) -> Any:
        body = msgspec.json.encode(
            {
                "CompanyId": company_id or self.company_id,
                "Source": "0",
                "IPCType": interface,
                interface: records,
            }
        )
        return self.post_raw(interface, body, JSON_TYPE, **extra)

    def post_protobuf(
        self, interface: str, records: list[Any], *, company_id: str | None = None, gzip_body: bool = False
    ) -> Any:
        body = encode_otipc(company_id or self.company_id, interface, records, partial=True)
        if gzip_body:
            return self.post_raw(interface, gzip.compress(body), PROTOBUF_TYPE, HTTP_CONTENT_ENCODING="gzip")
        return self.post_raw(interface, body, PROTOBUF_TYPE)

    def post_raw(self, interface: str, body: bytes, content_type: str, **extra: Any) -> Any:
        extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        return self.client.post(self.url(interface), data=body, content_type=content_type, **extra)


def make_uploader(
    *,
    phone: str = "13900000001",
    company_id: str = SAMPLE_COMPANY_ID,
    region: str = "330100",
    environment: str = CompanyCredential.Environment.PRODUCTION,
    body: str = "91330106MA2H4K7Q1",
) -> Uploader:
    # The SMS login flow sends codes on commit; a plain user plus an in-person verification is
    # enough to register a company (through the accounts services).
    user = User.objects.create(username=f"u{phone}", phone=phone, phone_hash=lookup_hash(phone))
    realname_verification_record_in_person(
        user=user,
        name="李明",
        id_number=id_number(sequence=phone[-3:]),
        ethnicity="汉",
        address="浙江省杭州市西湖区文三路1号",
        recorded_by=Actor.system("test"),
        reason="test",
    )
    user.refresh_from_db()
    company = company_register(
        user=user,
        credit_code=credit_code(body),
        name="杭州云正出行科技有限公司",
        legal_representative="李明",
        supervision_company_id=company_id,
    )
    if region and company.region_code != region:
        Company.objects.filter(pk=company.pk).update(region_code=region)
        company.refresh_from_db()
    issued = company_credential_create(company=company, name="tests", environment=environment)
    return Uploader(company=company, credential=issued.credential, token=issued.token, client=Client())


@pytest.fixture
def uploader(db: Any) -> Uploader:
    return make_uploader()


@pytest.fixture(autouse=True)
def _fresh_subscriber_cache() -> Any:
    forwarding.forget_subscriber_cache()
    yield
    forwarding.forget_subscriber_cache()
