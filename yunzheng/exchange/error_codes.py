"""Stable error codes of the exchange HTTP interface (beyond the record-level codes of the spec).

Record rejections use :class:`yunzheng.exchange.spec.ErrorCode` (``required``, ``halfwidth``,
``company_mismatch`` ...). The codes here describe why a whole request was refused. Codes are part
of the API: companies branch on them, so never rename one.
"""

from __future__ import annotations

from enum import StrEnum

from yunzheng.exchange.spec import ErrorCode


class ExchangeErrorCode(StrEnum):
    # The request as a whole ------------------------------------------------------------------
    NOT_AUTHENTICATED = "not_authenticated"  # 401: no/unknown/revoked bearer credential
    UNKNOWN_INTERFACE = "unknown_interface"  # 404: the path is not one of the 32 interfaces
    METHOD_NOT_ALLOWED = "method_not_allowed"  # 405: only POST
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"  # 415: not JSON / protobuf
    UNSUPPORTED_ENCODING = "unsupported_encoding"  # 415: Content-Encoding other than gzip/identity
    BODY_TOO_LARGE = "body_too_large"  # 413: body (or its decompressed form) over the limit
    LENGTH_REQUIRED = "length_required"  # 411: a chunked body the server in front cannot decode
    TOO_MANY_RECORDS = "too_many_records"  # 413: more records than one request may carry
    LOG_UNAVAILABLE = "log_unavailable"  # 503 + Retry-After: log mode, the log did not acknowledge
    # Envelope problems reuse the spec's codes (400/403) ------------------------------------------
    DECODE_ERROR = ErrorCode.DECODE_ERROR.value
    ENVELOPE_FIELD = ErrorCode.ENVELOPE_FIELD.value
    ENVELOPE_MISMATCH = ErrorCode.ENVELOPE_MISMATCH.value
    COMPANY_MISMATCH = ErrorCode.COMPANY_MISMATCH.value
    # Read side ---------------------------------------------------------------------------------
    NOT_FOUND = "exchange.not_found"
    OUT_OF_SCOPE = "exchange.out_of_scope"
    # Province feed (log mode) --------------------------------------------------------------------
    FEED_NOT_AUTHENTICATED = "feed.not_authenticated"  # 401: no/unknown subscriber token
    FEED_BAD_CURSOR = "feed.bad_cursor"  # 400: cursor is not now / a sequence / time:<ISO 8601>
    FEED_UNAVAILABLE = "feed.unavailable"  # 404: log mode is off
