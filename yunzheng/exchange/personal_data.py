"""Personal data in the exchange records: which fields, and how they are protected.

The one declarative source (see docs/adr/0005-exchange-personal-data.md): :data:`PERSONAL_FIELDS`
by field name, :data:`INTERFACE_FIELDS` where one name means different things in different
interfaces, and :data:`NOT_PERSONAL` for fields whose Chinese name looks personal but is not (each
with its reason). ``test_personal_data`` checks every field of the spec against these tables.

Protection at rest (applied by ``ingest`` after validation, before anything is written):

* a personal field that is part of a natural key (``LicenseId``, ``PassengerPhone``) and the typed
  ``license_id`` columns hold ``core.crypto.lookup_hash`` of the value: 64 hex digits, the same
  keyed hash the accounts (``User.id_number_hash``) and practitioners (``holder_id_hash``) apps
  store, so hashed driver identities join across the platform and re-sends stay duplicates;
* in the stored JSON records every personal value is an ``encrypt_field`` token
  (``sm4gcm:<key id>:…``); every other field is stored as received;
* the forwarding outbox holds the envelope of an interface with personal fields as one token.

Reads decrypt and mask (:func:`mask_record`); forwarding decrypts (:func:`reveal_record`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from yunzheng.core.crypto import (
    CryptoError,
    decrypt_field,
    encrypt_field,
    is_field_token,
    lookup_hash,
    mask_id_number,
    mask_name,
    mask_phone,
)
from yunzheng.exchange.spec import InterfaceSpec, get_spec

logger = logging.getLogger(__name__)

Record = dict[str, Any]


class PersonalKind(StrEnum):
    ID_NUMBER = "id_number"  # resident ID numbers and identifiers that are ID numbers
    PHONE = "phone"
    NAME = "name"  # a natural person's name or form of address
    ADDRESS = "address"  # a natural person's home or contact address


_ID, _PHONE, _NAME, _ADDRESS = (
    PersonalKind.ID_NUMBER,
    PersonalKind.PHONE,
    PersonalKind.NAME,
    PersonalKind.ADDRESS,
)

#: Personal fields by name, in every interface that has the field. All are strings in the spec.
PERSONAL_FIELDS: Mapping[str, PersonalKind] = MappingProxyType(
    {
        # 机动车驾驶证号 / 驾驶证编号: in China the driving-licence number is the resident ID number.
        "LicenseId": _ID,
        "LegalID": _ID,  # 法人代表身份证号
        # 网络预约出租汽车驾驶员资格证号: most cities issue it under the holder's ID number.
        "CertificateNo": _ID,
        "LegalPhone": _PHONE,  # 法人代表电话
        "DriverPhone": _PHONE,  # 驾驶员手机号
        "PassengerPhone": _PHONE,  # 乘客手机号
        "EmergencyContactPhone": _PHONE,  # 紧急情况联系人电话
        "ResponsiblePhone": _PHONE,  # 负责人联系电话
        "ManagerPhone": _PHONE,  # 管理人联系电话
        "ContactPhone": _PHONE,  # 服务机构紧急联系电话 (often a person's mobile)
        "LegalName": _NAME,  # 法人代表姓名
        "DriverName": _NAME,  # 机动车驾驶员姓名 / 驾驶员姓名
        "ResponsibleName": _NAME,  # 服务机构负责人姓名
        "ManagerName": _NAME,  # 服务机构管理人姓名
        "EmergencyContact": _NAME,  # 紧急情况联系人
        "PassengerName": _NAME,  # 乘客称谓 ("王女士")
        "DriverAddress": _ADDRESS,  # 户口住址或长住地址
        "DriverContactAddress": _ADDRESS,  # 驾驶员通信地址
        "EmergencyContactAddress": _ADDRESS,  # 紧急情况联系人通信地址
    }
)

#: (interface, field) entries that override :data:`PERSONAL_FIELDS` (None: not personal there).
INTERFACE_FIELDS: Mapping[tuple[str, str], PersonalKind | None] = MappingProxyType(
    {
        # 车辆所有人: private cars join ride-hailing platforms, so the owner is often a person.
        ("baseInfoVehicle", "OwnerName"): _NAME,
    }
)

#: Fields whose Chinese name looks personal but that are not protected, and why.
NOT_PERSONAL: Mapping[str, str] = MappingProxyType(
    {
        "NetType": "手机运营商: the mobile carrier (1-4), not a number",
        "LegalPhoto": "身份证扫描件文件编号: the number of a file transferred over FTPS, not the ID number",
        "LicensePhotoId": "驾驶证扫描件文件编号: the number of a file transferred over FTPS",
        "PhotoId": "驾驶员照片文件编号: the number of a file transferred over FTPS",
        "GetDriverLicenseDate": "初次领取驾驶证日期: a date (integer), no identifier",
        "DriverLicenseOn": "驾驶证有效期限起: a date (integer), no identifier",
        "DriverLicenseOff": "驾驶证有效期限止: a date (integer), no identifier",
        "OwnerName": "公司名称 in baseInfoCompanyPermit (a company); baseInfoVehicle's is personal",
        "CompanyName": "公司名称: a company",
        "ServiceName": "服务机构名称: an organisation",
        "PayName": "支付机构名称: an organisation",
        "ContactAddress": "通信地址 of the company, not of a person",
    }
)


def kind_of(interface: str, field: str) -> PersonalKind | None:
    """The personal-data kind of ``field`` in ``interface`` (type name), or None."""
    if (interface, field) in INTERFACE_FIELDS:
        return INTERFACE_FIELDS[(interface, field)]
    return PERSONAL_FIELDS.get(field)


@dataclass(frozen=True)
class InterfacePersonalData:
    interface: str
    fields: tuple[tuple[str, PersonalKind], ...]  # personal fields of the interface, spec order
    key_fields: frozenset[str]  # personal fields of the natural key: stored as lookup_hash

    @property
    def any(self) -> bool:
        return bool(self.fields)


def for_interface(interface: str | InterfaceSpec) -> InterfacePersonalData:
    """The personal fields of an interface (type name, or the InterfaceSpec of any spec version)."""
    return _of(interface if isinstance(interface, InterfaceSpec) else get_spec().interface(interface))


@functools.cache
def _of(iface: InterfaceSpec) -> InterfacePersonalData:
    fields = tuple((f.name, k) for f in iface.fields if (k := kind_of(iface.type, f.name)) is not None)
    names = {name for name, _ in fields}
    return InterfacePersonalData(
        interface=iface.type,
        fields=fields,
        key_fields=frozenset(name for name in iface.natural_key if name in names),
    )


# ---------------------------------------------------------------------------------------------
# write side
# ---------------------------------------------------------------------------------------------


class Sealer:
    """Protects the records of one batch: ``lookup_hash`` and ``encrypt_field``, memoised per value.

    Creating an SM4-GCM context costs tens of µs, so a value that occurs several times in one
    batch (a driver's licence number in many positions, log-ins or trips) is hashed and encrypted
    once; its records then share one token. Equality within a batch is no secret: the hashed key
    columns reveal it anyway. Memos live only as long as the batch.
    """

    __slots__ = ("_hashes", "_tokens")

    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}
        self._tokens: dict[str, str] = {}

    def hash(self, value: Any) -> str:
        """lookup_hash of the value ("" stays "")."""
        text = value if type(value) is str else str(value)
        if not text:
            return ""
        digest = self._hashes.get(text)
        if digest is None:
            digest = self._hashes[text] = lookup_hash(text)
        return digest

    def token(self, value: str) -> str:
        token = self._tokens.get(value)
        if token is None:
            token = self._tokens[value] = encrypt_field(value)
        return token

    def seal(self, personal: InterfacePersonalData, record: Record) -> Record:
        """A copy of ``record`` with every personal value (non-empty string) as a token."""
        out = dict(record)
        for name, _kind in personal.fields:
            value = out.get(name)
            if type(value) is str and value:
                out[name] = self.token(value)
        return out


def reveal_record(interface: str, record: Record) -> Record:
    """A copy of a stored record with the personal values decrypted (for forwarding)."""
    out = dict(record)
    for name, _kind in for_interface(interface).fields:
        value = out.get(name)
        if type(value) is str and is_field_token(value):
            out[name] = decrypt_field(value)
    return out


def seal_text(text: str) -> str:
    """One token for a whole text (the forwarding envelope of an interface with personal data)."""
    return encrypt_field(text)


def open_text(text: str) -> str:
    """Inverse of :func:`seal_text`; text that is not a token is returned as it is."""
    return decrypt_field(text) if is_field_token(text) else text


# ---------------------------------------------------------------------------------------------
# read side: decrypt, then mask
# ---------------------------------------------------------------------------------------------


def mask_address(value: str) -> str:
    """Province and city stay, the rest is starred: "浙江省杭州市西湖区…18号" -> "浙江省杭州市****"."""
    keep = min(6, len(value) // 2)
    return value[:keep] + "****"


_MASKS = {
    PersonalKind.ID_NUMBER: mask_id_number,
    PersonalKind.PHONE: mask_phone,
    PersonalKind.NAME: mask_name,
    PersonalKind.ADDRESS: mask_address,
}


def masked(kind: PersonalKind, value: str) -> str:
    """The masked display of a stored value (a token is decrypted first)."""
    if is_field_token(value):
        try:
            value = decrypt_field(value)
        except CryptoError:
            logger.warning("exchange: a stored %s token could not be decrypted", kind)
            return "***"
    return _MASKS[kind](value)


def mask_record(interface: str, record: Record) -> Record:
    """A copy of a stored record for pages and API answers: personal values decrypted and masked."""
    out = dict(record)
    for name, kind in for_interface(interface).fields:
        value = out.get(name)
        if type(value) is str and value:
            out[name] = masked(kind, value)
    return out


def lookup_key(value: str) -> str:
    """What a plaintext identifier from a regulator (licence number, phone) is stored as."""
    return lookup_hash(value) if value.strip() else ""
