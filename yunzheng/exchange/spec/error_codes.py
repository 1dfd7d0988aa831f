"""Stable error codes of the supervision data-exchange interface.

Every rejection carries one of these codes. They are part of the public contract (companies
build their uploaders against them), so never rename a value; add new ones instead.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType


class ErrorCode(StrEnum):
    # --- record level -----------------------------------------------------------------------
    RECORD_TYPE = "record_type"
    UNKNOWN_FIELD = "unknown_field"
    DUPLICATE_FIELD = "duplicate_field"
    # --- field level ------------------------------------------------------------------------
    REQUIRED = "required"
    TYPE = "type"
    MAX_LENGTH = "max_length"
    FIXED_LENGTH = "fixed_length"
    HALFWIDTH = "halfwidth"
    CONTROL_CHARACTER = "control_character"
    PLATE_FORMAT = "plate_format"
    DATE = "date"
    DATETIME = "datetime"
    TIME_TOO_EARLY = "time_too_early"
    TIME_IN_FUTURE = "time_in_future"
    YEARMONTH = "yearmonth"
    TIME_HHMM = "time_hhmm"
    ENUM = "enum"
    REGION_CODE = "region_code"
    COORDINATE_RANGE = "coordinate_range"
    RANGE = "range"
    # --- envelope / transport level (raised by decoders and the HTTP layer) ---------------------
    DECODE_ERROR = "decode_error"
    ENVELOPE_FIELD = "envelope_field"
    ENVELOPE_MISMATCH = "envelope_mismatch"
    COMPANY_MISMATCH = "company_mismatch"

    @property
    def description(self) -> str:
        return ERROR_CODE_DESCRIPTIONS[self]


#: One line of English per code; rendered into docs/exchange-interface.md.
ERROR_CODE_DESCRIPTIONS: MappingProxyType[ErrorCode, str] = MappingProxyType(
    {
        ErrorCode.RECORD_TYPE: "The record is not a JSON object / protobuf message.",
        ErrorCode.UNKNOWN_FIELD: (
            "The record has a key that is not a field of this interface (names are case-sensitive)."
        ),
        ErrorCode.DUPLICATE_FIELD: (
            "A field is given both under its canonical name and under an accepted alias."
        ),
        ErrorCode.REQUIRED: "A required field is missing, null, an empty string or only whitespace.",
        ErrorCode.TYPE: (
            "Wrong JSON type: strings must be strings, integers integers (not booleans, not floats, "
            "not numeric strings), decimals numbers."
        ),
        ErrorCode.MAX_LENGTH: (
            "Too long: strings count characters; integers count decimal digits; decimals count "
            "integer digits plus 2 decimal places."
        ),
        ErrorCode.FIXED_LENGTH: (
            "Wrong length for a fixed-length field (e.g. 6-digit region code, 17-character VIN, "
            "8-digit date, 14-digit date-time)."
        ),
        ErrorCode.HALFWIDTH: (
            "A code/identifier/number/phone/time field contains a character outside printable "
            "half-width ASCII (full-width letters, digits or punctuation, ideographic space, "
            "control characters)."
        ),
        ErrorCode.CONTROL_CHARACTER: (
            "A text field contains a control character (U+0000-U+001F, U+007F-U+009F: NUL, tab, "
            "line breaks, ...); text fields carry a single line of printable text."
        ),
        ErrorCode.PLATE_FORMAT: (
            "Plate number is not a province abbreviation followed by a half-width capital letter "
            "and 5 or 6 half-width capital letters/digits (e.g. 浙A12345, 浙AD12345)."
        ),
        ErrorCode.DATE: "Not a real calendar date in YYYYMMDD form.",
        ErrorCode.DATETIME: (
            "Not a real date-time in YYYYMMDDhhmmss form (PositionTime also accepts 10-digit unix seconds)."
        ),
        ErrorCode.TIME_TOO_EARLY: (
            "An event time (position, order, operation, rating or update time) before 2000-01-01 "
            "00:00:00 Beijing time: a device clock that was never set."
        ),
        ErrorCode.TIME_IN_FUTURE: (
            "An event time more than one day after the platform's current time (Beijing time): a "
            "wrong clock or time zone. Planned times (预计…) and validity periods (有效期…) are not event "
            "times."
        ),
        ErrorCode.YEARMONTH: "Not a real month in YYYYMM form.",
        ErrorCode.TIME_HHMM: "Not a 24-hour time of day in HHmm form (4 half-width digits, 0000-2359).",
        ErrorCode.ENUM: "The value is not a code of the field's code table.",
        ErrorCode.REGION_CODE: (
            "Not an existing GB/T 2260 administrative division code (current or historical, 6 digits)."
        ),
        ErrorCode.COORDINATE_RANGE: (
            "Coordinate outside China (longitude 73-136°E, latitude 3-54°N, as integer degrees x 10^6); "
            "0 and swapped longitude/latitude are rejected."
        ),
        ErrorCode.RANGE: (
            "Number outside the allowed range: negative money/mileage/count, NaN/infinity, "
            "beyond the protobuf type, or outside a documented scale (5-point score, 0-359° heading)."
        ),
        ErrorCode.DECODE_ERROR: "The request body cannot be decoded (invalid protobuf or JSON).",
        ErrorCode.ENVELOPE_FIELD: "The envelope's CompanyId, Source or IPCType is missing or invalid.",
        ErrorCode.ENVELOPE_MISMATCH: (
            "The envelope carries records in a list other than the one named by IPCType, "
            "or IPCType does not match the URL path."
        ),
        ErrorCode.COMPANY_MISMATCH: (
            "A record's CompanyId differs from the envelope's / the authenticated company's CompanyId."
        ),
    }
)

#: Codes that the record validator itself can produce (the others belong to decoders / HTTP).
RECORD_ERROR_CODES: frozenset[ErrorCode] = frozenset(
    {
        ErrorCode.RECORD_TYPE,
        ErrorCode.UNKNOWN_FIELD,
        ErrorCode.DUPLICATE_FIELD,
        ErrorCode.REQUIRED,
        ErrorCode.TYPE,
        ErrorCode.MAX_LENGTH,
        ErrorCode.FIXED_LENGTH,
        ErrorCode.HALFWIDTH,
        ErrorCode.CONTROL_CHARACTER,
        ErrorCode.PLATE_FORMAT,
        ErrorCode.DATE,
        ErrorCode.DATETIME,
        ErrorCode.TIME_TOO_EARLY,
        ErrorCode.TIME_IN_FUTURE,
        ErrorCode.YEARMONTH,
        ErrorCode.TIME_HHMM,
        ErrorCode.ENUM,
        ErrorCode.REGION_CODE,
        ErrorCode.COORDINATE_RANGE,
        ErrorCode.RANGE,
    }
)

if set(ERROR_CODE_DESCRIPTIONS) != set(ErrorCode):  # pragma: no cover - guarded by tests
    raise RuntimeError("every ErrorCode needs a description")
