"""Access logs never carry query strings with personal data, and no handler writes an unmasked copy
of a log line (issue #14): gunicorn's access and error logs through config/gunicorn.py, Django's
request and runserver lines, and every handler configured anywhere."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from gunicorn.config import Config

from config import gunicorn as gunicorn_settings
from yunzheng.core.logging import PersonalDataMaskingFilter

ID_NUMBER = "110101199003071237"
PHONE = "13812345678"
NAME = "%E5%BC%A0%E4%B8%89"  # 张三, URL-encoded
QUERY = f"id_number={ID_NUMBER}&phone={PHONE}&name={NAME}"


def _gunicorn_logger(tmp_path: Path, access_log_format: str | None = None) -> Any:
    cfg = Config()
    cfg.set("logger_class", gunicorn_settings.logger_class)
    cfg.set("access_log_format", access_log_format or gunicorn_settings.access_log_format)
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    return cfg.logger_class(cfg)


def _request(logger: Any) -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/licensing/applications/?{QUERY}",
        "PATH_INFO": "/licensing/applications/",
        "QUERY_STRING": QUERY,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://yz.example/office/?{QUERY}",
        "HTTP_USER_AGENT": "Mozilla/5.0",
    }
    req = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    resp = SimpleNamespace(status="200 OK", sent=512, headers=[])
    logger.access(resp, req, environ, timedelta(milliseconds=12))


def test_gunicorn_access_log_has_the_path_without_the_query(tmp_path: Path) -> None:
    logger = _gunicorn_logger(tmp_path)
    _request(logger)
    line = (tmp_path / "access.log").read_text()
    assert '"GET /licensing/applications/ HTTP/1.1" 200 512' in line
    for secret in (ID_NUMBER, PHONE, NAME, "id_number=", "?"):
        assert secret not in line


def test_no_access_log_format_can_bring_the_query_back(tmp_path: Path) -> None:
    """The atoms themselves are clean: the default combined format, the query atom, the referer,
    request headers and environ variables asked for by name."""
    logger = _gunicorn_logger(
        tmp_path, '"%(r)s" q=%(q)s "%(f)s" %({referer}i)s %({raw_uri}e)s %({query_string}e)s'
    )
    _request(logger)
    line = (tmp_path / "access.log").read_text()
    assert "/licensing/applications/" in line
    assert "https://yz.example/office/?…" in line
    for secret in (ID_NUMBER, PHONE, NAME, "id_number="):
        assert secret not in line


def test_gunicorn_error_log_is_masked(tmp_path: Path) -> None:
    logger = _gunicorn_logger(tmp_path)
    logger.error("Invalid request from %s: /x?phone=%s %s", "203.0.113.9", PHONE, ID_NUMBER)
    text = (tmp_path / "error.log").read_text()
    assert PHONE not in text
    assert ID_NUMBER not in text
    assert "1101**********1237" in text


def _our_handlers() -> list[tuple[str, logging.Handler]]:
    loggers = [("root", logging.getLogger())] + [
        (name, logger)
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    ]
    return [
        (name, handler)
        for name, logger in loggers
        for handler in logger.handlers
        if not type(handler).__module__.startswith("_pytest")  # pytest's own capture
        and not isinstance(handler, logging.NullHandler)  # libraries' "write nothing" default
    ]


def test_every_configured_handler_masks() -> None:
    handlers = _our_handlers()
    assert handlers, "the root logger has a handler"
    unmasked = [
        (name, type(handler).__name__)
        for name, handler in handlers
        if not any(isinstance(f, PersonalDataMaskingFilter) for f in handler.filters)
    ]
    assert unmasked == []


@pytest.mark.django_db
def test_django_request_lines_reach_one_masked_handler_without_query(client: Client) -> None:
    """A 404 with personal data in its query and a runserver-style request line: each written once,
    by the root's masked handler, with no query string."""
    stream = io.StringIO()
    root_handler = logging.getLogger().handlers[0]
    previous = root_handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        client.get(f"/no-such-page/?{QUERY}")
        logging.getLogger("django.server").info('"GET /verify/?%s HTTP/1.1" 200 5', QUERY)
    finally:
        root_handler.setStream(previous)  # type: ignore[attr-defined]
    text = stream.getvalue()
    assert text.count("Not Found: /no-such-page/") == 1
    assert text.count('"GET /verify/?… HTTP/1.1" 200 5') == 1
    for secret in (ID_NUMBER, PHONE, NAME, "id_number="):
        assert secret not in text


def test_the_ocr_library_writes_through_the_masked_handler_too() -> None:
    """rapidocr attaches a coloured console handler of its own on import; the OCR module drops it."""
    from yunzheng.accounts.ocr import get_engine

    get_engine()
    assert logging.getLogger("RapidOCR").handlers == []
    assert logging.getLogger("RapidOCR").propagate
    test_every_configured_handler_masks()
