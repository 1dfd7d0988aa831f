"""Ingest: validate a batch, check ownership, store it durably and idempotently.

A batch is validated as a whole by the spec engine; valid records are written in one
transaction that commits before the caller answers, so an acknowledgement always means
"committed". Modules, by sub-domain:

* ``service``  - ``ingest_batch`` (the one write path) and ``store_batch`` (the transaction);
* ``result``   - ``IngestResult`` (what the company is told) and the ownership check;
* ``plans``    - per-interface storage plans and event-time arithmetic;
* ``rows``     - records -> rows in COPY/INSERT column order (personal data hashed/sealed);
* ``writers``  - storage per plan kind (PostgreSQL binary COPY, ``ON CONFLICT DO NOTHING``
  fallback; executemany elsewhere);
* ``stats``    - the per-day upload and reject counters.

Idempotency key: (company, interface, natural key, version) - version is UpdateTime for base
information and the event time otherwise (see models.py).

Personal data (``personal_data.py``, ADR 0005): after validation, every row builder stores
personal key fields and the ``license_id`` columns as ``lookup_hash`` and personal values of the
stored JSON as ``encrypt_field`` tokens; nothing personal is written in plaintext.
"""

from yunzheng.exchange.ingest.plans import EVENT_TIME_FIELDS, Record, dt14_epoch, plan_for
from yunzheng.exchange.ingest.result import IngestResult, check_ownership
from yunzheng.exchange.ingest.rows import EVENT_COLUMNS, POSITION_COLUMNS
from yunzheng.exchange.ingest.service import ingest_batch, notify_stored, store_batch

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_TIME_FIELDS",
    "POSITION_COLUMNS",
    "IngestResult",
    "Record",
    "check_ownership",
    "dt14_epoch",
    "ingest_batch",
    "notify_stored",
    "plan_for",
    "store_batch",
]
