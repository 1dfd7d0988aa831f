"""The registry feed for provincial systems: batches of rows, per-record errors (docs/registry-import.md)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from yunzheng.core.audit import Actor
from yunzheng.core.auth import current_staff, staff_auth
from yunzheng.registries.access import import_region_prefix
from yunzheng.registries.importing import import_kind, registry_import_rows

router = Router(tags=["registries"])
MAX_BATCH = 5000


class BatchIn(Schema):
    rows: list[dict[str, str | int | float | None]] = Field(max_length=MAX_BATCH)
    dry_run: bool = False


class RejectedOut(Schema):
    row: int
    field: str
    code: str
    message: str


class ReportOut(Schema):
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: list[RejectedOut]


class TemplateOut(Schema):
    kind: str
    columns: list[str]
    required: list[str]


def _staff(request: HttpRequest) -> Any:
    user = current_staff(request)
    import_region_prefix(user)
    return user


@router.post(
    "/imports/{kind}",
    response=ReportOut,
    auth=staff_auth,
    summary="Import a batch of registry rows (idempotent by natural key; per-row errors)",
)
def import_batch(request: HttpRequest, kind: str, payload: BatchIn) -> dict[str, Any]:
    user = _staff(request)
    report = registry_import_rows(
        kind=kind,
        rows=[{k: "" if v is None else str(v) for k, v in row.items()} for row in payload.rows],
        actor=Actor.for_user(user),
        dry_run=payload.dry_run,
        region_prefix=import_region_prefix(user),
    )
    return report.as_dict()


@router.get("/imports/{kind}/template", response=TemplateOut, auth=None, summary="Columns of a kind")
def import_template(request: HttpRequest, kind: str) -> TemplateOut:
    chosen = import_kind(kind)
    return TemplateOut(kind=chosen.name, columns=list(chosen.columns), required=list(chosen.required))
