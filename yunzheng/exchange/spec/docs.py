"""Markdown reference of the interface, rendered from the spec (``docs/exchange-interface.md``).

``render_interface_markdown(spec) -> str``; ``python -m yunzheng.exchange.spec write`` writes it.
"""

from __future__ import annotations

from pathlib import Path

from .error_codes import ERROR_CODE_DESCRIPTIONS, ErrorCode
from .loader import (
    DECIMAL_PLACES,
    FIELD_ALIASES,
    FIELD_RULE_OVERRIDES,
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    Charset,
    Coordinate,
    FieldKind,
    FieldSpec,
    InterfaceSpec,
    Spec,
    get_spec,
)
from .natural_keys import VERSION_FIELD

REPO_ROOT = Path(__file__).resolve().parents[3]
DOCS_PATH = REPO_ROOT / "docs" / "exchange-interface.md"


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _deg(micro: int) -> str:
    return f"{micro / 1_000_000:g}"


def _length(f: FieldSpec) -> str:
    if f.length is None:
        return "—"
    return f"={f.length}" if f.fixed_length else f"≤{f.length}"


def _type(f: FieldSpec) -> str:
    return f.kind.value if f.kind.value == f.proto_type else f"{f.kind.value} ({f.proto_type})"


def _format(f: FieldSpec, spec: Spec) -> str:
    parts: list[str] = []
    if f.kind is FieldKind.TIMESTAMP:
        parts.append(" or ".join(f"`{x}`" for x in (f.format or "").split("|")))
    elif f.format:
        parts.append(f"`{f.format}`")
    if f.region_code:
        parts.append("GB/T 2260 region code")
    if f.coordinate is not None:
        lo, hi = LONGITUDE_RANGE if f.coordinate is Coordinate.LONGITUDE else LATITUDE_RANGE
        parts.append(f"{f.coordinate} ×10⁻⁶°, {_deg(lo)}–{_deg(hi)}")
    if f.enum is not None:
        codes = ", ".join(f"{k} {v}" for k, v in f.enum.items())
        parts.append(f"code table {f.code_table or ''}: {codes}".replace("table :", "table:"))
    elif f.code_table:
        table = spec.code_tables.get(f.code_table)
        if table is not None and table.codes is None:
            parts.append(f"code table {f.code_table} (codes unknown, not checked)")
    if f.charset is Charset.HALFWIDTH:
        parts.append("half-width")
    elif f.charset is Charset.PLATE:
        parts.append("plate 浙A12345")
    if f.decimal_places is not None:
        parts.append(f"≥0, {f.decimal_places} decimals")
    elif (
        f.kind is FieldKind.INTEGER
        and f.min_value is not None
        and f.max_value is not None
        and (f.min_value, f.max_value) not in ((0, 2**32 - 1), (0, 2**64 - 1), (-(2**31), 2**31 - 1))
    ):
        parts.append(f"{f.min_value}–{f.max_value}")
    if f.unit and f.coordinate is None:
        parts.append(f"unit {f.unit}")
    if f.aliases:
        parts.append("alias " + ", ".join(f"`{a}`" for a in f.aliases))
    return "; ".join(parts)


def _notes(f: FieldSpec) -> str:
    parts: list[str] = []
    if f.note:
        parts.append(f.note)
    if f.override_reason:
        parts.append("rule patched (see Data gaps)")
    if f.unconfirmed:
        parts.append(f"⚠ unconfirmed: {f.unconfirmed_reason or 'details not confirmed'}")
    return "; ".join(parts)


def _interface_section(iface: InterfaceSpec, spec: Spec) -> list[str]:
    out = [
        f"### {iface.type} — {iface.name_zh}",
        "",
        f"- `POST {iface.http_path}` · IPCType `{iface.type}` = {iface.ipc_type_hex} "
        f"({iface.ipc_type_code}) · "
        f"protobuf `{iface.protobuf_message}` (OTIpc field {iface.otipc_field_number}) · "
        f"spec {iface.spec_section}, 表{iface.spec_table}",
        f"- Natural key: {', '.join(f'`{k}`' for k in iface.natural_key)}"
        + (
            f"; version `{iface.version_field}`"
            if iface.version_field
            else "; event record (no version field)"
        ),
        "",
        "| # | Field | 中文名 | Type | Len | Req | Format / codes | Rules | Notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in iface.fields:
        rules = ", ".join(r.value for r in f.rules)  # in the order they are checked
        out.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    f.proto_number,
                    f"`{f.name}`",
                    f.name_zh,
                    _type(f),
                    _length(f),
                    "✓" if f.required else "",
                    _format(f, spec),
                    rules,
                    _notes(f),
                )
            )
            + " |"
        )
    out.append("")
    return out


def render_interface_markdown(spec: Spec | None = None) -> str:
    """The complete Markdown reference (deterministic: the same spec renders the same text)."""
    spec = spec or get_spec()
    ifaces = list(spec.interfaces.values())
    out: list[str] = [
        "# Supervision data-exchange interface (网约车监管信息交互平台 数据交换接口)",
        "",
        f"> Generated from `yunzheng/exchange/spec/data/{spec.source_path}` (spec version {spec.version}) "
        "by `yunzheng.exchange.spec.docs.render_interface_markdown`. Do not edit by hand: run "
        "`python -m yunzheng.exchange.spec write` (a test fails when this file is stale).",
        "",
        f"{spec.title}",
        "",
        f"{len(spec.categories)} categories, {len(ifaces)} interfaces, {spec.field_count} fields. "
        f"Protobuf definition: [`OTIpcDef.proto`](../yunzheng/exchange/spec/data/OTIpcDef.proto).",
        "",
        "## Contents",
        "",
        "- [Transport and envelope](#transport-and-envelope)",
        "- [Validation rules](#validation-rules)",
        "- [Error codes](#error-codes)",
        "- [Data gaps and decisions](#data-gaps-and-decisions)",
        "- [Interfaces](#interfaces)",
        "- [Code tables](#code-tables)",
        "",
        "## Transport and envelope",
        "",
        "Each interface has its own URL path; a request carries the records of one interface in the "
        f"`{spec.envelope_message}` envelope, as protobuf (`application/x-protobuf`, package "
        f"`{spec.proto_package}`) or as JSON (`application/json`, same field names: "
        '`{"CompanyId": ..., "Source": "0", "IPCType": "orderCreate", "orderCreate": [records]}`). '
        f"Position batches may come as `{spec.batch_message}` (`repeated {spec.envelope_message} "
        f"{spec.batch_field[0]} = {spec.batch_field[1]}`).",
        "",
        "| Envelope field | Number | Type | Required | Meaning |",
        "|---|---|---|---|---|",
    ]
    for ef in spec.envelope_fields:
        out.append(
            f"| `{ef.name}` | {ef.number} | {_cell(ef.type)} | {'✓' if ef.required else ''} "
            f"| {_cell(ef.note)} |"
        )
    out += [
        "| `<ipcType>` | = ipc code | repeated message | | exactly one list, the one named by IPCType |",
        "",
        "Idempotency: a stored record is identified by `(envelope CompanyId, interface, natural key, "
        f"{VERSION_FIELD})`; {VERSION_FIELD} is `None` for event interfaces, whose natural keys include "
        "the event time where an entity has many events.",
        "",
        "## Validation rules",
        "",
        "Every record is checked against its interface's field list; **every** failing field is "
        "reported (one error per field, the first failing rule in this order): `required` → `type` → "
        "`halfwidth` → `max_length`/`fixed_length` → `range` → `plate_format`/`date`/`datetime`/"
        "`yearmonth`/`time_hhmm` → `enum` → `region_code` → `coordinate_range`, then `unknown_field` "
        "for keys that are not fields. The rules of each field are derived from the spec data:",
        "",
        '- **required**: a required field must be present and not null, `""` or only whitespace. '
        'An optional field given as null/`""` counts as absent and is dropped.',
        "- **type** (strict, like the ministry's checker): 字符型 fields must be JSON strings; 数字型 "
        "integer fields (protobuf uint32/uint64/int32, including dates, times, codes and coordinates) "
        'must be JSON integers — not `true`/`false`, not `12.0`, not `"330100"`; decimal fields '
        "(protobuf float) must be numbers.",
        "- **length**: `Vn` = at most n, `Fn` = exactly n. Strings count characters (a Chinese "
        "character is one). Integers count decimal digits (`Address` F6 = 6 digits, dates F8, "
        f"times F14). Decimals count integer digits plus {DECIMAL_PLACES} decimal places. Fields "
        "whose length is not legible in the sources (`—`) have no length limit.",
        "- **halfwidth**: codes, identifiers, numbers, phone numbers and times (derived from the "
        "Chinese name: …号/…码/…编号/…代码/…编码/…标识/…电话/…时间, every field with a code "
        "table or a format) accept printable ASCII only; the error names each offending character, "
        "its position and its half-width form (NFKC), e.g. `Ａ`→`A`, `，`→`,`, `　`→` `. Names, "
        "addresses, model designations (…型号), permit numbers (…许可证号, …字号) and free text "
        "may contain Chinese and full-width punctuation.",
        "- **plate_format** (`VehicleNo`, 车辆号牌): one of the 31 province abbreviations, a "
        "half-width capital letter, then 5 (ordinary) or 6 (new-energy) half-width capital "
        "letters/digits: `浙A12345`, `浙AD12345`. Full-width letters/digits after the province "
        "character are reported as `halfwidth`.",
        "- **date / datetime / yearmonth / time_hhmm**: `YYYYMMDD`, `YYYYMMDDhhmmss`, `YYYYMM` "
        "numbers must be real calendar values (`20260230`, `20261301`, `20260101246000` are "
        "rejected); `HHmm` strings must be 4 digits 0000–2359.",
        "- **enum**: the value must be a code of the field's code table, with the table's type "
        '(`Flag` is the integer 1, `PayState` the string "1"). Code tables whose codes the '
        "sources do not give are not checked (see Code tables).",
        "- **region_code**: GB/T 2260 administrative division codes (province, prefecture or county "
        "level, current or historical), from the table python-stdnum ships for `stdnum.cn.ric`.",
        "- **coordinate_range**: longitudes/latitudes are integers in 10⁻⁶ degree; they must lie "
        f"within China ({_deg(LONGITUDE_RANGE[0])}–{_deg(LONGITUDE_RANGE[1])}°E, "
        f"{_deg(LATITUDE_RANGE[0])}–{_deg(LATITUDE_RANGE[1])}°N). 0 and swapped "
        "longitude/latitude are rejected.",
        "- **range**: integers within their protobuf type (unsigned types reject negatives), "
        "五分制 scores 1–5, heading (Direction) 0–359; money (元) and distances (km) finite and "
        f"≥ 0, normalised to {DECIMAL_PLACES} decimal places.",
        "",
        "## Error codes",
        "",
        "| Code | Meaning |",
        "|---|---|",
    ]
    for code in ErrorCode:
        out.append(f"| `{code.value}` | {_cell(ERROR_CODE_DESCRIPTIONS[code])} |")
    out += [
        "",
        "`decode_error`, `envelope_field`, `envelope_mismatch` and `company_mismatch` concern the whole "
        "request (body, envelope, authenticated company); the others are per record and field.",
        "",
        "## Data gaps and decisions",
        "",
        f"- **Money precision**: protobuf `float`, tables say 数字型 V10, no precision given. Decimals are "
        f"rounded to {DECIMAL_PLACES} places (分, 10 m); protobuf floats are read back as the "
        "2-decimal (else shortest) value of the float32, so 12.34 stays 12.34. float32 has a 24-bit "
        "mantissa: from 131,072 (2^17) up, neighbouring cents share a float32 on the protobuf path.",
        "- **PositionTime**: the transcription says `unixtime`, receiver DDLs use 14 digits. Both are "
        "accepted; unix seconds (2000–2099) are normalised to `YYYYMMDDhhmmss` in Beijing time (UTC+8).",
        "- **Commercial-Type**: the spec tables spell `Commercial-Type`, the protobuf `CommercialType`. "
        "The canonical name is `CommercialType`; `Commercial-Type` is accepted as an alias on JSON "
        "input of `baseInfoVehicle` and renamed (sending both is `duplicate_field`).",
        "- **Unconfirmed fields** (⚠ in the tables): rules are derived from what the data gives; a "
        "length that was not legible is not enforced, a referenced code table without codes is not "
        "enforced. Nothing is invented for them.",
        "- **Reserved** (保留字段, last optional string of every message): accepted as free text.",
        "- **Region level**: position region codes should be 地市级; any existing code is accepted.",
        "",
        "Field rule overrides (`FIELD_RULE_OVERRIDES`):",
        "",
        "| Field | Change | Reason |",
        "|---|---|---|",
    ]
    for (itype, fname), (changes, reason) in FIELD_RULE_OVERRIDES.items():
        change = ", ".join(f"{k} = {getattr(v, 'value', v)}" for k, v in changes.items())
        out.append(f"| `{itype}.{fname}` | {_cell(change)} | {_cell(reason)} |")
    out += ["", "Aliases (`FIELD_ALIASES`):", "", "| Field | Accepted alias |", "|---|---|"]
    for (itype, fname), aliases in FIELD_ALIASES.items():
        out.append(f"| `{itype}.{fname}` | {', '.join(f'`{a}`' for a in aliases)} |")
    out += ["", "Confidence notes of the spec data:", ""]
    out += [f"- {_cell(note)}" for note in spec.confidence_notes]
    out += [
        "",
        "## Interfaces",
        "",
        "| IPCType | Code | Path | Name | Natural key | Fields |",
        "|---|---|---|---|---|---|",
    ]
    for i in ifaces:
        out.append(
            f"| [`{i.type}`](#{i.type.lower()}--{_anchor(i.name_zh)}) | {i.ipc_type_hex} | `{i.http_path}` | "
            f"{_cell(i.name_zh)} | {', '.join(i.natural_key)} | {len(i.fields)} |"
        )
    out.append("")
    for cat in spec.categories:
        out += [f"## {cat.name_zh} — {cat.name_en}", ""]
        for itype in cat.interface_types:
            out += _interface_section(spec.interfaces[itype], spec)
    out += ["## Code tables", "", "| Table | Codes | Source |", "|---|---|---|"]
    for table in spec.code_tables.values():
        if table.codes:
            codes = ", ".join(f"{k} {v}" for k, v in table.codes.items())
        elif table.candidate_codes:
            codes = (
                "not checked (unconfirmed; candidates: "
                + ", ".join(f"{k} {v}" for k, v in table.candidate_codes.items())
                + ")"
            )
        else:
            codes = "not checked (codes not in the sources)"
        out.append(f"| `{table.name}` | {_cell(codes)} | {_cell(table.source)} |")
    return "\n".join(out) + "\n"


def _anchor(text: str) -> str:
    """GitHub-style heading anchor fragment of a Chinese name (spaces -> '-', punctuation removed)."""
    kept = [ch for ch in text.lower() if ch.isalnum() or ch in " -_"]
    return "".join(kept).strip().replace(" ", "-")


def write_docs(path: Path = DOCS_PATH, spec: Spec | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_interface_markdown(spec), encoding="utf-8")
    return path
