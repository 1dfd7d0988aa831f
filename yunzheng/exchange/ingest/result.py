"""What the company is told about one batch, and the ownership check shared by every route."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from yunzheng.exchange.ingest.plans import Record
from yunzheng.exchange.spec import ErrorCode, FieldError, RecordError


@dataclass
class IngestResult:
    batch_id: int | None
    interface: str
    received: int
    accepted: int
    duplicates: int
    rejected: list[RecordError] = field(default_factory=list)

    @property
    def result(self) -> str:
        if not self.rejected:
            return "ok"
        return "partial" if self.accepted + self.duplicates else "rejected"

    def to_dict(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "batch_id": self.batch_id,
            "interface": self.interface,
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [
                {
                    "index": r.index,
                    "errors": [
                        {"field": e.field, "code": str(e.code), "message": e.message} for e in r.errors
                    ],
                }
                for r in self.rejected
            ],
        }


def check_ownership(
    company_id: str, accepted: list[tuple[int, Record]], rejected: list[RecordError], records: Sequence[Any]
) -> tuple[list[Record], list[RecordError]]:
    """Split valid records into ours and others' (rejected with ``CompanyId``/``company_mismatch``)."""
    if all(rec["CompanyId"] == company_id for _, rec in accepted):
        valid = [rec for _, rec in accepted]
    else:
        valid = []
        for idx, rec in accepted:
            if rec["CompanyId"] == company_id:
                valid.append(rec)
            else:
                rejected.append(RecordError(idx, [_mismatch(rec["CompanyId"], company_id)]))
        rejected.sort(key=lambda r: r.index)
    for err in rejected:
        raw = records[err.index] if err.index < len(records) else None
        theirs = raw.get("CompanyId") if type(raw) is dict else None
        if type(theirs) is str and theirs != company_id and all(e.field != "CompanyId" for e in err.errors):
            err.errors.append(_mismatch(theirs, company_id))
    return valid, rejected


def _mismatch(theirs: Any, ours: str) -> FieldError:
    return FieldError(
        "CompanyId",
        ErrorCode.COMPANY_MISMATCH,
        f"CompanyId {theirs!r} is not the uploading company's {ours!r}",
        theirs,
    )
