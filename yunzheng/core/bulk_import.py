"""The report every bulk registry import returns (command, API, upload page): one shape.

    {"kind", "rows", "created", "updated", "unchanged", "rejected": [{"row", "field", "code", "message"}]}

`row` is the 1-based data row of the file or batch (the header is not counted). Each app that owns
a registry validates and writes its own rows; the `registries` app reads files and routes kinds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from yunzheng.core.audit import Actor, record_audit


@dataclass(frozen=True)
class RowProblem:
    row: int
    field: str
    code: str
    message: str


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowProblem] = field(default_factory=list)

    def reject(self, row: int, field_name: str, code: str, message: str) -> None:
        self.rejected.append(RowProblem(row=row, field=field_name, code=code, message=str(message)))

    def count(self, outcome: str) -> None:
        """One more row `created`, `updated` or `unchanged`."""
        if outcome not in ("created", "updated", "unchanged"):
            raise ValueError(outcome)
        setattr(self, outcome, getattr(self, outcome) + 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [asdict(problem) for problem in self.rejected],
        }


def record_import(report: ImportReport, *, actor: Actor, dry_run: bool) -> None:
    """The audit entry of an import that changed a registry (its counts; the rejected rows only
    counted): every registry's import ends with it. A dry run or an import that changed nothing
    records nothing."""
    if dry_run or not (report.created or report.updated):
        return
    record_audit(
        actor=actor,
        action="registry.import",
        target_type="registry",
        target_id=report.kind,
        after={k: v for k, v in report.as_dict().items() if k != "rejected"}
        | {"rejected": len(report.rejected)},
    )


class RowInvalid(Exception):
    """One field of one row breaks a rule; the row is rejected, the others go on."""

    def __init__(self, field_name: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.code = code
        self.message = str(message)


def text(row: dict[str, str], name: str, *, required: bool = True, max_length: int = 200) -> str:
    value = (row.get(name) or "").strip()
    if required and not value:
        raise RowInvalid(name, "import.required", _("This column is required."))
    if len(value) > max_length:
        raise RowInvalid(name, "import.too_long", _("At most %(count)s characters.") % {"count": max_length})
    return value


def date(row: dict[str, str], name: str, *, required: bool = True) -> dt.date | None:
    value = (row.get(name) or "").strip()
    if not value:
        if required:
            raise RowInvalid(name, "import.required", _("This column is required."))
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RowInvalid(
            name, "import.date_invalid", _("%(value)s is not a date (YYYY-MM-DD).") % {"value": value[:20]}
        ) from None


def required_date(row: dict[str, str], name: str) -> dt.date:
    value = date(row, name)
    if value is None:  # pragma: no cover - date() raised already
        raise RowInvalid(name, "import.required", _("This column is required."))
    return value


def choice(row: dict[str, str], name: str, allowed: tuple[str, ...] | list[str]) -> str:
    value = (row.get(name) or "").strip()
    if value not in allowed:
        raise RowInvalid(
            name,
            "import.unknown_value",
            _("%(value)s is not one of: %(allowed)s.") % {"value": value[:40], "allowed": ", ".join(allowed)},
        )
    return value
