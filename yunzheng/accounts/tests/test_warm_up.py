"""Workers load the OCR models when they start, not on the first ID photo."""

from __future__ import annotations

import gc
import logging
import types
from io import StringIO

import pytest
from django.core.management import call_command

from config import gunicorn as gunicorn_config
from config.warmup import warm_up
from yunzheng.accounts import ocr


def fake_worker() -> types.SimpleNamespace:
    return types.SimpleNamespace(pid=4242, log=logging.getLogger("test.gunicorn"))


def test_gunicorn_hook_loads_and_runs_the_ocr_models(monkeypatch, caplog):
    monkeypatch.setattr(ocr, "_engine", None)
    with caplog.at_level(logging.INFO, logger="test.gunicorn"):
        gunicorn_config.post_worker_init(fake_worker())
    try:
        assert ocr._engine is not None
        assert "worker 4242 warmed up: ocr" in caplog.text
        # the start-up heap is frozen, so that request garbage does not make full collections
        # walk it (the tail of the exchange's acknowledgement latency)
        assert "heap" in caplog.text
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_gunicorn_config_is_what_make_serve_uses():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[3] / "Makefile").read_text()
    assert "--config config/gunicorn.py" in makefile
    assert gunicorn_config.preload_app is False  # onnxruntime must not be shared across fork


def test_warm_up_can_be_switched_off(monkeypatch, settings):
    settings.WARM_UP_ON_START = False
    monkeypatch.setattr(ocr, "_engine", None)
    assert warm_up() == {}
    assert ocr._engine is None


def test_a_failing_step_does_not_stop_the_worker(monkeypatch, caplog):
    def broken() -> float:
        raise ocr.OcrUnavailable("models missing")

    monkeypatch.setattr(ocr, "warm_up", broken)
    with caplog.at_level(logging.ERROR, logger="yunzheng.warmup"):
        assert warm_up() == {}
    assert "warm-up of the OCR models failed" in caplog.text


def test_management_command_reports_the_time():
    out = StringIO()
    call_command("ocr_warm_up", stdout=out)
    assert out.getvalue().startswith("OCR models loaded and run in ")


def test_management_command_fails_clearly_without_models(monkeypatch):
    from django.core.management.base import CommandError

    def broken() -> float:
        raise ocr.OcrUnavailable("rapidocr model x.onnx is missing")

    monkeypatch.setattr(ocr, "warm_up", broken)
    with pytest.raises(CommandError, match=r"x\.onnx is missing"):
        call_command("ocr_warm_up")
