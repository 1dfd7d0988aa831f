"""Reading a registry export (CSV) into validated licence periods, with an error per bad row.

Columns (a header row is required; English or Chinese names, any order, extra columns ignored):

* ``identifier`` (yes) - the driver's driving-licence number (= ID number) or the plate; also
  ``licence_id``, ``license_id``, ``id_number``, ``plate``, ``vehicle_no``, 驾驶证号, 身份证号, 车牌号;
* ``certificate_no`` (no) - the certificate's number, also its reference (else the identifier);
  also 证号, 证件号;
* ``region_code`` (no) - issuing region, GB/T 2260; also 发证地区, 行政区划代码;
* ``valid_from`` / ``valid_until`` (yes) - YYYY-MM-DD or YYYYMMDD, the end inclusive; also
  有效期起 / 有效期止;
* ``status`` (no, default valid) - valid/有效, suspended/暂停, cancelled/注销, revoked/吊销/撤销;
* ``status_changed_at`` (for non-valid statuses) - YYYY-MM-DD [HH:MM[:SS]] Beijing time; also 状态变更时间.

Drivers' licence numbers are validated, then stored only as their keyed ``lookup_hash`` (the key
the exchange uses) and masked for display.

The file may be UTF-8 (with or without BOM) or GB18030, as exported by spreadsheet programs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from yunzheng.core.clock import CHINA
from yunzheng.supervision.licences import (
    identifier_problem,
    licence_display,
    licence_key,
    normalise_identifier,
)
from yunzheng.supervision.models import LicenceKind, PeriodStatus

_ALIASES = {
    "identifier": (
        "identifier",
        "licence_id",
        "license_id",
        "licenseid",
        "id_number",
        "plate",
        "plate_number",
        "vehicle_no",
        "vehicleno",
        "驾驶证号",
        "身份证号",
        "身份证号码",
        "车牌号",
        "车牌号码",
    ),
    "certificate_no": ("certificate_no", "certificate", "certificate_number", "证号", "证件号", "证件编号"),
    "region_code": ("region_code", "region", "发证地区", "行政区划代码"),
    "valid_from": ("valid_from", "有效期起", "有效期开始"),
    "valid_until": ("valid_until", "有效期止", "有效期至", "有效期结束"),
    "status": ("status", "状态"),
    "status_changed_at": ("status_changed_at", "changed_at", "状态变更时间"),
}
_STATUS = {
    "valid": PeriodStatus.VALID,
    "有效": PeriodStatus.VALID,
    "正常": PeriodStatus.VALID,
    "suspended": PeriodStatus.SUSPENDED,
    "暂停": PeriodStatus.SUSPENDED,
    "暂扣": PeriodStatus.SUSPENDED,
    "cancelled": PeriodStatus.CANCELLED,
    "canceled": PeriodStatus.CANCELLED,
    "注销": PeriodStatus.CANCELLED,
    "revoked": PeriodStatus.REVOKED,
    "吊销": PeriodStatus.REVOKED,
    "撤销": PeriodStatus.REVOKED,
}


@dataclass(frozen=True)
class PeriodInput:
    """One validated period, ready to store."""

    kind: str
    identifier: str  # the key (see licences.licence_key)
    identifier_display: str
    certificate_no: str
    region_code: str
    valid_from: date
    valid_until: date
    status: str
    status_changed_at: datetime | None
    source_ref: str


@dataclass(frozen=True)
class RowError:
    line: int  # line number in the file (the header is line 1)
    field: str
    code: str
    message: str


@dataclass
class ParsedFile:
    periods: list[tuple[int, PeriodInput]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class FileError(ValueError):
    """The file as a whole cannot be read (encoding, no header, missing columns)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileError("import.encoding", "the file is neither UTF-8 nor GB18030 text")


def _parse_date(value: str) -> date:
    text = value.strip().replace("/", "-").replace(".", "-")
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return date.fromisoformat(text)


def _parse_moment(value: str) -> datetime:
    """Beijing local time: a date (00:00), a date and time, or YYYYMMDDhhmmss."""
    text = value.strip().replace("/", "-").replace("T", " ")
    if len(text) == 14 and text.isdigit():
        naive = datetime.strptime(text, "%Y%m%d%H%M%S")
    elif len(text) <= 10:
        naive = datetime.combine(_parse_date(text), datetime.min.time())
    else:
        naive = datetime.fromisoformat(text)
        if naive.tzinfo is not None:
            return naive
    return naive.replace(tzinfo=CHINA)


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    normalised = [h.strip().lower().replace(" ", "_") for h in header]
    for name, aliases in _ALIASES.items():
        for index, column in enumerate(normalised):
            if column in aliases:
                found[name] = index
                break
    missing = [c for c in ("identifier", "valid_from", "valid_until") if c not in found]
    if missing:
        raise FileError("import.columns", f"missing column(s): {', '.join(missing)}")
    return found


def parse_rows(kind: str, lines: Iterable[list[str]]) -> ParsedFile:
    """Validate the rows of a CSV (first row: header). Every bad row is reported, none stored."""
    if kind not in LicenceKind.values:
        raise FileError("import.kind", f"kind must be one of {', '.join(LicenceKind.values)}")
    rows: Iterator[list[str]] = iter(lines)
    header = next(rows, None)
    if header is None:
        raise FileError("import.empty", "the file is empty")
    columns = _columns(header)
    out = ParsedFile()
    seen: dict[tuple[str, date], int] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            index = columns.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        errors: list[RowError] = []
        identifier = normalise_identifier(kind, cell("identifier"))
        if not identifier:
            errors.append(RowError(line, "identifier", "required", "the identifier is empty"))
        else:
            problem = identifier_problem(kind, identifier)
            if problem:
                errors.append(RowError(line, "identifier", "invalid", problem))
        dates: dict[str, date] = {}
        for name in ("valid_from", "valid_until"):
            raw = cell(name)
            if not raw:
                errors.append(RowError(line, name, "required", f"{name} is empty"))
                continue
            try:
                dates[name] = _parse_date(raw)
            except ValueError:
                errors.append(RowError(line, name, "date", f"{raw!r} is not a date (YYYY-MM-DD)"))
        if len(dates) == 2 and dates["valid_until"] < dates["valid_from"]:
            errors.append(RowError(line, "valid_until", "order", "valid_until is before valid_from"))
        status_text = cell("status").lower() or "valid"
        status = _STATUS.get(status_text)
        if status is None:
            errors.append(RowError(line, "status", "enum", f"unknown status {status_text!r}"))
        changed: datetime | None = None
        raw_changed = cell("status_changed_at")
        if raw_changed:
            try:
                changed = _parse_moment(raw_changed)
            except ValueError:
                errors.append(
                    RowError(line, "status_changed_at", "datetime", f"{raw_changed!r} is not a time")
                )
        elif status not in (None, PeriodStatus.VALID):
            errors.append(
                RowError(
                    line,
                    "status_changed_at",
                    "required",
                    "a suspended, cancelled or revoked period needs the time",
                )
            )
        region = cell("region_code")
        if region and not (len(region) == 6 and region.isdigit()):
            errors.append(RowError(line, "region_code", "invalid", "a region code has 6 digits"))
        certificate = cell("certificate_no")[:64]
        if errors or status is None:
            out.errors.extend(errors)
            continue
        reference = certificate or licence_key(kind, identifier)
        key = (reference, dates["valid_from"])
        if key in seen:
            out.errors.append(
                RowError(line, "certificate_no", "duplicate", f"the same period is on line {seen[key]}")
            )
            continue
        seen[key] = line
        out.periods.append(
            (
                line,
                PeriodInput(
                    kind=kind,
                    identifier=licence_key(kind, identifier),
                    identifier_display=licence_display(kind, identifier),
                    certificate_no=certificate,
                    region_code=region,
                    valid_from=dates["valid_from"],
                    valid_until=dates["valid_until"],
                    status=str(status),
                    status_changed_at=changed if status != PeriodStatus.VALID else None,
                    source_ref=reference,
                ),
            )
        )
    return out


def parse_csv(kind: str, data: bytes) -> ParsedFile:
    return parse_rows(kind, csv.reader(io.StringIO(decode(data))))
