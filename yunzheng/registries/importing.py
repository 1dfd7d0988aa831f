"""Bulk registry feeds: which kinds exist, reading CSV/XLSX files, routing rows to the owning app.

Each registry stays in the app that owns it (practitioners: qualification certificates;
elicense: vehicles and road transport certificates, violations, annual inspections); this module
only reads files (checked by content, not by name), maps kinds to the owning app's import service
and gives every channel — `manage.py registry_import`, the JSON API, the staff upload page — the
same report (core.bulk_import.ImportReport). docs/registry-import.md lists the columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from yunzheng.core.audit import Actor
from yunzheng.core.bulk_import import ImportReport
from yunzheng.core.errors import ValidationFailed
from yunzheng.registries.access import import_region_prefix

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_CELL = 500


@dataclass(frozen=True)
class ImportKind:
    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    run: Callable[..., ImportReport]  # run(*, rows, actor, dry_run, region_prefix) -> ImportReport


def _kinds() -> dict[str, ImportKind]:
    from yunzheng.elicense import registry_import as vehicles
    from yunzheng.practitioners import credit_import as credit
    from yunzheng.practitioners import registry_import as certificates

    return {
        certificates.KIND: ImportKind(
            certificates.KIND,
            certificates.COLUMNS,
            tuple(c for c in certificates.COLUMNS if c != "service_unit"),
            certificates.certificates_import,
        ),
        vehicles.VEHICLES: ImportKind(
            vehicles.VEHICLES, vehicles.VEHICLE_COLUMNS, vehicles.VEHICLE_REQUIRED, vehicles.vehicles_import
        ),
        vehicles.VIOLATIONS: ImportKind(
            vehicles.VIOLATIONS,
            vehicles.VIOLATION_COLUMNS,
            vehicles.VIOLATION_REQUIRED,
            vehicles.violations_import,
        ),
        vehicles.INSPECTIONS: ImportKind(
            vehicles.INSPECTIONS,
            vehicles.INSPECTION_COLUMNS,
            vehicles.INSPECTION_REQUIRED,
            vehicles.inspections_import,
        ),
        credit.KIND: ImportKind(credit.KIND, credit.COLUMNS, credit.REQUIRED, credit.credit_results_import),
    }


KIND_NAMES = (
    "qualification-certificates",
    "vehicles",
    "violations",
    "annual-inspections",
    "credit-results",
)


def import_kind(name: str) -> ImportKind:
    kinds = _kinds()
    if name not in kinds:
        raise ValidationFailed.single(
            field="kind",
            code="import.kind_unknown",
            message=_("Unknown kind %(kind)s; use one of %(kinds)s.")
            % {"kind": name, "kinds": ", ".join(kinds)},
        )
    return kinds[name]


def template_csv(kind: ImportKind) -> bytes:
    """An empty template: the header row, UTF-8 with BOM so that Excel opens it as UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(kind.columns)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _file_error(code: str, message: str) -> ValidationFailed:
    return ValidationFailed.single(field="file", code=code, message=message)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)[:MAX_CELL]


def _check_header(header: list[str], kind: ImportKind) -> list[str]:
    names = [name.strip().lstrip("\ufeff") for name in header]
    missing = [column for column in kind.required if column not in names]
    if missing:
        raise _file_error(
            "import.columns_missing",
            _("The file lacks the columns %(columns)s (see the template).") % {"columns": ", ".join(missing)},
        )
    return names


def _csv_rows(content: bytes, kind: ImportKind) -> Iterator[dict[str, str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error("import.encoding", _("A CSV file must be UTF-8 encoded.")) from None
    if "\x00" in text:
        raise _file_error("import.not_text", _("This is not a CSV text file."))
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise _file_error("import.empty", _("The file is empty."))
    names = _check_header(header, kind)
    width = len(names)
    for values in reader:
        if not "".join(values).strip():  # an empty row
            continue
        if len(values) < width:
            values += [""] * (width - len(values))
        if max(map(len, values)) > MAX_CELL:
            values = [value[:MAX_CELL] for value in values]
        yield dict(zip(names, values, strict=False))  # cells beyond the header are left out


def _xlsx_rows(content: bytes, kind: ImportKind) -> Iterator[dict[str, str]]:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise zipfile.BadZipFile
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise _file_error("import.xlsx_invalid", _("This is not a readable .xlsx workbook.")) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise _file_error("import.empty", _("The file is empty."))
    names = _check_header([_cell(value) for value in header], kind)
    for values in rows:
        cells = [_cell(value) for value in values]
        if not any(cell.strip() for cell in cells):
            continue
        yield {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(names)}
    workbook.close()


def read_rows(*, content: bytes, kind: ImportKind) -> Iterator[dict[str, str]]:
    """Rows of a CSV (UTF-8, with or without BOM) or XLSX file, told apart by content: an XLSX
    file is a ZIP archive (PK\\x03\\x04) holding xl/workbook.xml; anything else must be UTF-8
    text. The header is checked before the first row is returned."""
    if len(content) > MAX_FILE_BYTES:
        raise _file_error("import.too_large", _("The file is larger than 64 MB."))
    is_xlsx = content.startswith(b"PK\x03\x04")
    rows = _xlsx_rows(content, kind) if is_xlsx else _csv_rows(content, kind)
    first = next(rows, None)  # runs the header checks now, not halfway through an import

    def chained() -> Iterator[dict[str, str]]:
        if first is not None:
            yield first
            yield from rows

    return chained()


def _importer(user: Any, actor: Actor | None, region_prefix: str) -> tuple[Actor, str]:
    """(actor, region prefix) of an import: a staff member is checked against the permission table
    (`registry.import`) and imports for their region as themselves; otherwise the caller vouches
    for both (a provincial system's credential, a command)."""
    if user is not None:
        return Actor.for_user(user), import_region_prefix(user)
    if actor is None:
        raise ValueError("an import names the staff member or the actor")
    return actor, region_prefix


def registry_import(
    *,
    kind: str,
    content: bytes,
    user: Any = None,
    actor: Actor | None = None,
    dry_run: bool = False,
    region_prefix: str = "",
) -> ImportReport:
    """Read a file and import its rows (see the kind's service for the rules)."""
    actor, region_prefix = _importer(user, actor, region_prefix)
    chosen = import_kind(kind)
    rows = read_rows(content=content, kind=chosen)
    return chosen.run(rows=rows, actor=actor, dry_run=dry_run, region_prefix=region_prefix)


def registry_import_rows(
    *,
    kind: str,
    rows: list[dict[str, str]],
    user: Any = None,
    actor: Actor | None = None,
    dry_run: bool = False,
    region_prefix: str = "",
) -> ImportReport:
    """Import a batch of rows given as mappings (the JSON API)."""
    actor, region_prefix = _importer(user, actor, region_prefix)
    chosen = import_kind(kind)
    return chosen.run(
        rows=[{k: _cell(v) for k, v in row.items()} for row in rows],
        actor=actor,
        dry_run=dry_run,
        region_prefix=region_prefix,
    )
