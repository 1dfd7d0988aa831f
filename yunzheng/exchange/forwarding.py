"""Forwarding records to the provincial/city platforms that cover their region (durable outbox).

The rules forbid asking companies to upload twice, so this platform passes records on. Ingest
calls :func:`enqueue` inside its transaction: one ``ForwardingOutbox`` row per (batch, subscriber)
holding the JSON envelope to POST, so a committed batch is never lost to a crash before
forwarding. The worker (``manage.py forward_exchange``) claims due rows, POSTs them and retries
with exponential backoff. Delivery is at least once: subscribers must be idempotent (the natural
keys of the spec make that easy), and a company's re-sent duplicates are forwarded again.

Region of a record: its region-code field where the interface has one (Address, OnArea,
DriverRegionCode, VehicleRegionCode) else the company's registered region.

Personal data (ADR 0005): subscribers are supervision platforms entitled to the original values,
so they receive the records as uploaded. At rest, the envelope of an interface with personal
fields is one ``encrypt_field`` token in ``ForwardingOutbox.payload``, decrypted only to POST it;
error texts from subscribers are stored and logged with ID and mobile numbers masked.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from yunzheng.accounts.models import Company
from yunzheng.core.audit import Actor, record_audit
from yunzheng.core.logging import mask_personal_data
from yunzheng.exchange import personal_data
from yunzheng.exchange.conf import app_settings
from yunzheng.exchange.models import ForwardingOutbox, ForwardingSubscriber
from yunzheng.exchange.spec import InterfaceSpec

logger = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class _Sub:
    id: int
    prefix: str
    interfaces: frozenset[str]


_cache: tuple[float, list[_Sub]] = (0.0, [])
_cache_lock = threading.Lock()


def _subscribers() -> list[_Sub]:
    """Active subscribers, cached per process for EXCHANGE_SUBSCRIBER_CACHE_SECONDS (default 5)."""
    global _cache
    ttl = float(app_settings.EXCHANGE_SUBSCRIBER_CACHE_SECONDS)
    loaded_at, subs = _cache
    now = time.monotonic()
    if now - loaded_at < ttl:
        return subs
    with _cache_lock:
        subs = [
            _Sub(id=s.pk, prefix=s.region_prefix, interfaces=frozenset(s.interfaces or ()))
            for s in ForwardingSubscriber.objects.filter(active=True).only(
                "id", "region_prefix", "interfaces"
            )
        ]
        _cache = (now, subs)
    return subs


def forget_subscriber_cache() -> None:
    global _cache
    _cache = (0.0, [])


def envelope_json(company_id: str, interface: InterfaceSpec, records: Sequence[dict[str, Any]]) -> str:
    """The JSON envelope of the interface, as companies send it and subscribers receive it."""
    return _encode(
        {"CompanyId": company_id, "Source": "0", "IPCType": interface.type, interface.type: list(records)}
    ).decode()


def enqueue(
    *,
    company: Company,
    interface: InterfaceSpec,
    region_field: str | None,
    records: Sequence[dict[str, Any]],
    batch_id: int,
    now: datetime,
) -> int:
    """Queue ``records`` for every subscriber covering their region. Call inside the ingest
    transaction. Returns the number of outbox rows written."""
    subs = [s for s in _subscribers() if not s.interfaces or interface.type in s.interfaces]
    if not subs:
        return 0
    company_region = company.region_code or ""
    seal = personal_data.for_interface(interface).any
    per_sub: dict[int, list[dict[str, Any]]] = {}
    matches: dict[str, list[int]] = {}
    for rec in records:
        region = str(rec.get(region_field) or company_region) if region_field else company_region
        ids = matches.get(region)
        if ids is None:
            ids = matches[region] = [s.id for s in subs if region.startswith(s.prefix)]
        for sid in ids:
            per_sub.setdefault(sid, []).append(rec)
    rows = [
        ForwardingOutbox(
            subscriber_id=sid,
            company=company,
            batch_id=batch_id,
            interface=interface.ipc_type_code,
            record_count=len(recs),
            payload=_sealed(envelope_json(company.supervision_company_id, interface, recs), seal),
            next_attempt_at=now,
            created_at=now,
        )
        for sid, recs in sorted(per_sub.items())
    ]
    ForwardingOutbox.objects.bulk_create(rows)
    return len(rows)


def _sealed(envelope: str, seal: bool) -> str:
    """The outbox payload: one token when the records carry personal data (one SM4-GCM pass over
    the envelope, not a token per value), the JSON itself otherwise (positionVehicle ...)."""
    return personal_data.seal_text(envelope) if seal else envelope


# ---------------------------------------------------------------------------------------------
# subscribers (control actions: audited)
# ---------------------------------------------------------------------------------------------


def forwarding_subscriber_create(
    *,
    name: str,
    region_prefix: str,
    url: str,
    token: str = "",
    interfaces: Sequence[str] = (),
    actor: Actor | None = None,
) -> ForwardingSubscriber:
    if not (region_prefix == "" or (region_prefix.isdigit() and len(region_prefix) in (2, 4, 6))):
        raise ValueError("region_prefix must be '', or 2, 4 or 6 digits of a GB/T 2260 code")
    with transaction.atomic():
        sub = ForwardingSubscriber.objects.create(
            name=name, region_prefix=region_prefix, url=url, token=token or None, interfaces=list(interfaces)
        )
        record_audit(
            actor=actor or Actor.system("manage.py"),
            action="exchange.subscriber.create",
            target_type="forwarding_subscriber",
            target_id=sub.pk,
            after={"name": name, "region_prefix": region_prefix, "url": url, "interfaces": list(interfaces)},
        )
    forget_subscriber_cache()
    return sub


def forwarding_subscriber_set_active(
    *, subscriber: ForwardingSubscriber, active: bool, actor: Actor | None = None
) -> ForwardingSubscriber:
    with transaction.atomic():
        before = subscriber.active
        subscriber.active = active
        subscriber.save(update_fields=["active"])
        record_audit(
            actor=actor or Actor.system("manage.py"),
            action="exchange.subscriber.activate" if active else "exchange.subscriber.deactivate",
            target_type="forwarding_subscriber",
            target_id=subscriber.pk,
            before={"active": before},
            after={"active": active},
        )
    forget_subscriber_cache()
    return subscriber


# ---------------------------------------------------------------------------------------------
# the worker
# ---------------------------------------------------------------------------------------------


@dataclass
class ForwardReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def backoff_seconds(attempts: int) -> float:
    """Delay before attempt ``attempts + 1``: base x 2^(attempts-1), capped."""
    base = float(app_settings.EXCHANGE_FORWARD_BACKOFF_SECONDS)
    cap = float(app_settings.EXCHANGE_FORWARD_BACKOFF_MAX_SECONDS)
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


def _claim(limit: int, now: datetime) -> list[ForwardingOutbox]:
    """Lease due rows: attempts+1 and next_attempt_at pushed past the send timeout, so another
    worker skips them, and a worker that dies mid-send leaves them due again later."""
    lease = timedelta(seconds=float(app_settings.EXCHANGE_FORWARD_TIMEOUT_SECONDS) * 3)
    with transaction.atomic():
        qs = ForwardingOutbox.objects.filter(
            Q(status=ForwardingOutbox.Status.PENDING), next_attempt_at__lte=now
        ).order_by("next_attempt_at", "id")
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.select_related("subscriber")[:limit])
        ids = [r.pk for r in rows]
        if ids:
            ForwardingOutbox.objects.filter(pk__in=ids).update(next_attempt_at=now + lease)
    return rows


def _post(row: ForwardingOutbox) -> str | None:
    """POST the envelope; None on success (2xx), else the error text."""
    return post_envelope(
        url=row.subscriber.url,
        token=row.subscriber.token or "",
        envelope=personal_data.open_text(row.payload),
        batch_ref=str(row.batch_id),
    )


def post_envelope(*, url: str, token: str, envelope: str, batch_ref: str) -> str | None:
    """POST one JSON envelope to a subscriber; None on success (2xx), else the error text
    (masked: a subscriber may echo records). Used by the outbox worker and, in log mode, by the
    province consumers (``log/provinces.py``)."""
    timeout = float(app_settings.EXCHANGE_FORWARD_TIMEOUT_SECONDS)
    headers = {"Content-Type": "application/json; charset=utf-8", "X-Yunzheng-Batch": batch_ref}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 - subscriber URLs are configured by staff
        url, data=envelope.encode("utf-8"), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
            if 200 <= response.status < 300:
                return None
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return mask_personal_data(f"HTTP {exc.code}: {exc.read(500).decode('utf-8', 'replace')}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def forward_once(*, limit: int = 100, now: datetime | None = None) -> ForwardReport:
    """Send every due outbox row once (up to ``limit``); returns what happened."""
    report = ForwardReport()
    now = now or timezone.now()
    max_attempts = int(app_settings.EXCHANGE_FORWARD_MAX_ATTEMPTS)
    for row in _claim(limit, now):
        if not row.subscriber.active:
            continue
        error = _post(row)
        if error is not None:
            # A subscriber may echo records in its error body: never keep or log them in clear.
            error = mask_personal_data(error)
        attempts = row.attempts + 1
        done_at = timezone.now()
        if error is None:
            ForwardingOutbox.objects.filter(pk=row.pk).update(
                status=ForwardingOutbox.Status.SENT, attempts=attempts, sent_at=done_at, last_error=""
            )
            report.sent += 1
        elif attempts >= max_attempts:
            ForwardingOutbox.objects.filter(pk=row.pk).update(
                status=ForwardingOutbox.Status.FAILED, attempts=attempts, last_error=error[:2000]
            )
            logger.error("exchange: outbox row %s to %s failed for good: %s", row.pk, row.subscriber, error)
            report.failed += 1
        else:
            ForwardingOutbox.objects.filter(pk=row.pk).update(
                attempts=attempts,
                next_attempt_at=done_at + timedelta(seconds=backoff_seconds(attempts)),
                last_error=error[:2000],
            )
            report.retried += 1
    return report
