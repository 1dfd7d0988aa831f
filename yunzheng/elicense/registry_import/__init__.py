"""Bulk feeds of the vehicle registries (registry_import): road transport certificates, traffic
violations with their remedy state, annual inspections.

Idempotent by natural key — certificate number; violation reference; (certificate number,
inspection date). Rows are validated in memory, then written in batches of 2,000, one transaction
each (`_common._run`): one read of the existing records by natural key, new records inserted with
COPY (`core.bulk_insert`) with their electronic licences, history and ministry-index entries in
bulk (`elicense.bulk`) and one audit entry per batch; passed annual inspections update the
certificates and their licences in bulk the same way. Changes of existing records and status
decisions (suspension, cancellation, a failed inspection) are registry events of their own and
take this app's per-record services (vehicles.py), audited per record. Either way every event
reaches the vehicle's electronic licence and the ministry index in the same transaction. Bad rows
are rejected with field, code and message; good rows are kept.
"""

from yunzheng.elicense.registry_import._common import (
    INSPECTION_COLUMNS,
    INSPECTION_REQUIRED,
    INSPECTIONS,
    VEHICLE_COLUMNS,
    VEHICLE_REQUIRED,
    VEHICLES,
    VIOLATION_COLUMNS,
    VIOLATION_REQUIRED,
    VIOLATIONS,
)
from yunzheng.elicense.registry_import.inspections import inspections_import
from yunzheng.elicense.registry_import.vehicles import vehicles_import
from yunzheng.elicense.registry_import.violations import violations_import

__all__ = [
    "INSPECTIONS",
    "INSPECTION_COLUMNS",
    "INSPECTION_REQUIRED",
    "VEHICLES",
    "VEHICLE_COLUMNS",
    "VEHICLE_REQUIRED",
    "VIOLATIONS",
    "VIOLATION_COLUMNS",
    "VIOLATION_REQUIRED",
    "inspections_import",
    "vehicles_import",
    "violations_import",
]
