"""Logging helpers: keep resident ID numbers and mobile numbers out of log files."""

from __future__ import annotations

import logging
import re

from yunzheng.core.crypto import mask_id_number, mask_phone

# Boundaries are "no adjacent digit" rather than \b: in Python's Unicode regexes Chinese characters
# are word characters, so \b never fires in "身份证110101199003071237" — the most common shape.
# Any 18-character run counts, checksum or not: a mistyped ID number is still personal data.
_RESIDENT_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")
# 11-digit mobile numbers, optionally prefixed with +86/86 and grouped 3-4-4 with spaces or hyphens.
_MOBILE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[ -]?)?(?P<number>1[3-9]\d[ -]?\d{4}[ -]?\d{4})(?!\d)")


def mask_personal_data(text: str) -> str:
    text = _RESIDENT_ID.sub(lambda match: mask_id_number(match.group()), text)
    return _MOBILE.sub(
        lambda match: match.group().replace(match["number"], mask_phone(match["number"])), text
    )


class PersonalDataMaskingFilter(logging.Filter):
    """Masks ID and mobile numbers in the formatted message, traceback and stack of each record.

    Attach it to handlers, not loggers: a logger's filters do not see records propagated from its
    children. It never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        # A format string that doesn't match its arguments: the handler would print msg and args
        # raw to stderr in its error report, so log them as text instead, masked like the rest.
        except (TypeError, ValueError, KeyError):
            message = f"{record.msg} {record.args!r}"
        # The message is now fully formatted; clear args so it is not %-formatted again.
        record.msg, record.args = mask_personal_data(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so format the traceback once here, masked.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True
