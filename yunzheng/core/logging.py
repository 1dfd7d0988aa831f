"""Logging helpers: keep resident ID numbers, mobile numbers and URL query strings out of log files.

Query strings carry whatever a form or a link put there (names, ID numbers, phone numbers, share
codes), so a log line keeps a URL's path and replaces its query with `?…` (the access log of
gunicorn, config/gunicorn_logging.py, and Django's request and runserver lines alike)."""

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
# A URL (absolute, or a path starting with "/") followed by a query string: the query goes.
_QUERY = re.compile(r"((?:\bhttps?://[^\s/?#\"']+)?/[^\s?#\"']*)\?[^\s#\"']*")
QUERY_REMOVED = "?…"


def drop_query_strings(text: str) -> str:
    return _QUERY.sub(lambda match: match.group(1) + QUERY_REMOVED, text)


def mask_personal_data(text: str) -> str:
    text = drop_query_strings(text)
    text = _RESIDENT_ID.sub(lambda match: mask_id_number(match.group()), text)
    return _MOBILE.sub(
        lambda match: match.group().replace(match["number"], mask_phone(match["number"])), text
    )


class PersonalDataMaskingFilter(logging.Filter):
    """Masks ID and mobile numbers and drops URL query strings in the formatted message, traceback
    and stack of each record. Every handler carries it (settings.LOGGING; gunicorn's handlers
    through config/gunicorn_logging.py), and a test checks that no handler lacks it.

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


def adopt_library_logger(name: str) -> None:
    """A library that attaches its own handler to its logger (rapidocr does, on import) would write
    an unmasked copy of its lines: drop that handler so its records reach the root's masked one."""
    logger = logging.getLogger(name)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = True
