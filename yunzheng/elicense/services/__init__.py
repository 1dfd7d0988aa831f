"""Every write of the electronic-licence core: signing keys, licences (sync from registries,
status changes, expiry), signing QR payloads, online verification, share codes, activation.

The registries (this app's vehicle certificates and traffic passes; later the One-Network Office
and the licensing workflow) call `licence_sync` from their own services, inside their own
transaction: the licence, its history and the ministry index then commit or roll back with the
registry record. See docs/adr/0011-elicense-registry-sync.md.

Settings and their defaults: elicense/conf.py.
"""

from __future__ import annotations

from yunzheng.elicense.services._common import (
    MAX_ESSENTIAL_ITEMS,
    MAX_ESSENTIAL_TEXT,
    ROOT_PROVINCE,
    SHARE_CODE_ALPHABET,
    SHARE_CODE_LENGTH,
    require_staff_covering,
)
from yunzheng.elicense.services.keys import (
    root_key,
    signing_key_create,
    signing_key_mark_compromised,
    signing_key_rotate,
    trust_list_issue,
    trusted_key,
)
from yunzheng.elicense.services.share_codes import (
    IssuedShareCode,
    format_share_code,
    share_code_create,
    share_code_redeem,
)
from yunzheng.elicense.services.signing import (
    SignedPayload,
    active_signing_key,
    licence_essentials,
    licence_sign,
)
from yunzheng.elicense.services.status import (
    LICENCE_STATUS_CHANGES,
    index_record_id_search,
    licence_expire_due,
    licence_record_activation,
    licence_record_staff_view,
    licence_reinstate,
    licence_revoke,
    licence_suspend,
    user_holds_licence,
)
from yunzheng.elicense.services.sync import (
    SYNC_EVENTS,
    licence_content_hash,
    licence_sync,
)

# Last: the vehicle registry's staff decisions use `licence_sync` above (via elicense.vehicles).
from yunzheng.elicense.services.vehicle_registry import (
    vehicle_certificate_decide,
    vehicle_inspection_record,
    vehicle_violation_remedy,
    violation_region,
)
from yunzheng.elicense.services.verification import (
    VerificationOutcome,
    client_ip_hash,
    verification_verify,
)

__all__ = [
    "LICENCE_STATUS_CHANGES",
    "MAX_ESSENTIAL_ITEMS",
    "MAX_ESSENTIAL_TEXT",
    "ROOT_PROVINCE",
    "SHARE_CODE_ALPHABET",
    "SHARE_CODE_LENGTH",
    "SYNC_EVENTS",
    "IssuedShareCode",
    "SignedPayload",
    "VerificationOutcome",
    "active_signing_key",
    "client_ip_hash",
    "format_share_code",
    "index_record_id_search",
    "licence_content_hash",
    "licence_essentials",
    "licence_expire_due",
    "licence_record_activation",
    "licence_record_staff_view",
    "licence_reinstate",
    "licence_revoke",
    "licence_sign",
    "licence_suspend",
    "licence_sync",
    "require_staff_covering",
    "root_key",
    "share_code_create",
    "share_code_redeem",
    "signing_key_create",
    "signing_key_mark_compromised",
    "signing_key_rotate",
    "trust_list_issue",
    "trusted_key",
    "user_holds_licence",
    "vehicle_certificate_decide",
    "vehicle_inspection_record",
    "vehicle_violation_remedy",
    "verification_verify",
    "violation_region",
]
