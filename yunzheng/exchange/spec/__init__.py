"""Core engine of the supervision data-exchange interface (pure Python, no Django).

Everything is derived from one data file, ``data/ridehail_supervision_spec_v2016.json``:

* :mod:`.loader` - typed, immutable spec (``get_spec()``), per-field validation rules,
  ``FIELD_RULE_OVERRIDES`` for known data gaps;
* :mod:`.natural_keys` - ``NATURAL_KEYS`` for idempotent ingestion;
* :mod:`.validation` - compiled per-interface validators (``validate_records``);
* :mod:`.error_codes` - stable ``ErrorCode`` values;
* :mod:`.protobuf` - message classes built at import, ``decode_otipc``/``encode_otipc``,
  ``render_proto_file`` (imported on demand: ``from yunzheng.exchange.spec import protobuf``);
* :mod:`.docs` - the Markdown reference; :mod:`.samples` - realistic valid records.
"""

from .error_codes import ERROR_CODE_DESCRIPTIONS, ErrorCode
from .loader import (
    FIELD_ALIASES,
    FIELD_RULE_OVERRIDES,
    Charset,
    CodeTable,
    Coordinate,
    FieldKind,
    FieldSpec,
    InterfaceSpec,
    Spec,
    ValueType,
    get_spec,
    load_spec,
)
from .natural_keys import NATURAL_KEYS
from .validation import (
    BatchResult,
    FieldError,
    RecordError,
    RecordValidator,
    get_validator,
    validate_record,
    validate_records,
)

__all__ = [
    "ERROR_CODE_DESCRIPTIONS",
    "FIELD_ALIASES",
    "FIELD_RULE_OVERRIDES",
    "NATURAL_KEYS",
    "BatchResult",
    "Charset",
    "CodeTable",
    "Coordinate",
    "ErrorCode",
    "FieldError",
    "FieldKind",
    "FieldSpec",
    "InterfaceSpec",
    "RecordError",
    "RecordValidator",
    "Spec",
    "ValueType",
    "get_spec",
    "get_validator",
    "load_spec",
    "validate_record",
    "validate_records",
]
