from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from yunzheng.accounts.ocr import IdCardFields, OcrReading
from yunzheng.accounts.services import realname
from yunzheng.accounts.tests.factories import id_number

FAKE_OCR_READING = IdCardFields(
    name="张三丰",
    sex="M",
    ethnicity="汉",
    birth_date=dt.date(1990, 3, 7),
    address="浙江省杭州市西湖区文三路100号",
    id_number=id_number(region="330106", birth="19900307", sequence="123"),
)


@pytest.fixture(autouse=True)
def _private_files(settings: Any, tmp_path: Path) -> None:
    """ID photos and the demo token file go to the test's own directory, never the repo's var/."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def ocr_reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, IdCardFields]:
    """Stand in for rapidocr (run for real in test_ocr.py and the browser test, ~2 s a photo):
    every photo "reads" as FAKE_OCR_READING unless a test changes reading["fields"]."""
    reading = {"fields": FAKE_OCR_READING}

    def fake_read(image: bytes) -> OcrReading:
        assert image[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0")  # only validated, re-encoded images
        return OcrReading(fields=reading["fields"], line_count=11, seconds=0.0)

    monkeypatch.setattr(realname, "read_id_card_front", fake_read)
    return reading
