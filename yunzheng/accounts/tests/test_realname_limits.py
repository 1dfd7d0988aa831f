"""Real-name photos cannot starve the server: a lower pixel cap, downscaled decoding, a limit on
open drafts per user, and OCR in a bounded pool (issue #14 hardening)."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from yunzheng.accounts import ocr, services
from yunzheng.accounts.models import RealNameVerification
from yunzheng.accounts.services import realname
from yunzheng.accounts.tests.factories import login, png_bytes
from yunzheng.core.errors import RateLimited, ValidationFailed
from yunzheng.core.models import AuditEntry

PHONE = "13800138123"


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 190, 180)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


@pytest.mark.django_db
def test_a_photo_over_25_megapixels_is_refused_from_its_header(ocr_reads: Any) -> None:
    user = login(PHONE)
    buffer = io.BytesIO()
    Image.new("L", (5001, 5000)).save(buffer, format="PNG")  # 25.005 megapixels, a small file
    with pytest.raises(ValidationFailed) as refused:
        services.realname_photo_upload(user=user, upload=buffer.getvalue())
    assert refused.value.code == "upload.too_many_pixels"
    assert refused.value.details[0].params["max_pixels"] == 25_000_000
    assert not RealNameVerification.objects.exists()


@pytest.mark.django_db
def test_a_large_photo_is_kept_at_2560_pixels(ocr_reads: Any) -> None:
    user = login(PHONE)
    draft = services.realname_photo_upload(user=user, upload=jpeg(5120, 3840))  # 19.7 megapixels
    kept = Image.open(io.BytesIO(services.realname_photo_bytes(verification=draft)))
    assert kept.size == (2560, 1920)


@pytest.mark.django_db
def test_open_drafts_are_limited_per_user_oldest_discarded(ocr_reads: Any, settings: Any) -> None:
    settings.ACCOUNTS_REALNAME_OPEN_DRAFTS = 2
    user = login(PHONE)
    first = services.realname_photo_upload(user=user, upload=png_bytes())
    first_photo = Path(settings.PRIVATE_MEDIA_ROOT) / first.photo_name
    second = services.realname_photo_upload(user=user, upload=png_bytes())
    assert first_photo.exists()
    third = services.realname_photo_upload(user=user, upload=png_bytes())
    open_drafts = set(
        RealNameVerification.objects.filter(user=user, status=RealNameVerification.Status.DRAFT).values_list(
            "pk", flat=True
        )
    )
    assert open_drafts == {second.pk, third.pk}
    assert not first_photo.exists()
    discard = AuditEntry.objects.get(action="real_name.draft_discard")
    assert discard.target_id == str(first.pk)
    # Another user's drafts are not touched.
    other = login("13800138124")
    services.realname_photo_upload(user=other, upload=png_bytes())
    assert RealNameVerification.objects.filter(user=user).count() == 2


@pytest.mark.django_db
def test_busy_ocr_refuses_the_upload_at_once_and_stores_nothing(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    def busy(image: bytes) -> ocr.OcrReading:
        raise ocr.OcrBusy("every OCR place of this process is taken")

    monkeypatch.setattr(realname, "read_id_card_front", busy)
    user = login(PHONE)
    with pytest.raises(RateLimited) as refused:
        services.realname_photo_upload(user=user, upload=png_bytes())
    assert refused.value.code == "real_name.ocr_busy"
    assert refused.value.retry_after_seconds == realname.OCR_BUSY_RETRY_SECONDS
    assert not RealNameVerification.objects.exists()
    assert not any(Path(settings.PRIVATE_MEDIA_ROOT).rglob("*.*"))


class SlowEngine:
    """Stands in for rapidocr (a real photo takes 1-3 s of CPU); long enough that all eight
    uploads arrive while the first is still being read."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, picture: Image.Image) -> Any:
        with self.lock:
            self.running += 1
            self.calls += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(1.0)
        with self.lock:
            self.running -= 1
        return type("Result", (), {"txts": ()})()


def test_eight_uploads_at_once_hold_at_most_the_pool_and_the_rest_are_refused_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = SlowEngine()
    monkeypatch.setattr(ocr, "get_engine", lambda: engine)
    monkeypatch.setattr(ocr, "_admission", threading.BoundedSemaphore(2))
    photo = jpeg(4000, 3000)
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def upload() -> None:
        start.wait()
        try:
            ocr.read_id_card_front(photo)
            outcomes.append("read")
        except ocr.OcrBusy:
            outcomes.append("busy")

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["busy"] * 6 + ["read"] * 2
    assert engine.most_at_once == 1  # one photo in the engine at a time, one waiting
    # Once the pool is free again, photos are read as before.
    ocr.read_id_card_front(photo)
    assert engine.calls == 3
