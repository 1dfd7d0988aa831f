from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import transaction

from yunzheng.core.sms import (
    FileOutboxSmsBackend,
    LocmemSmsBackend,
    read_outbox,
    send_sms,
    send_sms_on_commit,
)


def test_file_outbox_appends_json_lines_readable_per_phone(settings, tmp_path: Path) -> None:
    settings.SMS_BACKEND = "yunzheng.core.sms.FileOutboxSmsBackend"
    send_sms(phone="13800000001", text="验证码 123456", template="login_code", params={"code": "123456"})
    send_sms(phone="13800000002", text="验证码 654321")
    lines = Path(settings.SMS_OUTBOX_PATH).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["phone"] for line in lines] == ["13800000001", "13800000002"]
    only_first = read_outbox(phone="13800000001")
    assert [m.params for m in only_first] == [{"code": "123456"}]


def test_console_backend_masks_the_phone(settings, capsys: pytest.CaptureFixture[str]) -> None:
    settings.SMS_BACKEND = "yunzheng.core.sms.ConsoleSmsBackend"
    send_sms(phone="13812345678", text="您的办件已受理")
    out = capsys.readouterr().out
    assert "138****5678" in out
    assert "13812345678" not in out
    assert "您的办件已受理" in out


def test_locmem_backend(settings) -> None:
    settings.SMS_BACKEND = "yunzheng.core.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    send_sms(phone="13800000003", text="hello")
    assert [m.phone for m in LocmemSmsBackend.outbox] == ["13800000003"]


@pytest.mark.django_db(transaction=True)
def test_on_commit_sends_only_when_the_transaction_commits(settings, tmp_path: Path) -> None:
    settings.SMS_BACKEND = "yunzheng.core.sms.FileOutboxSmsBackend"

    def send_then_fail() -> None:
        with transaction.atomic():
            send_sms_on_commit(phone="13800000004", text="rolled back")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        send_then_fail()
    assert read_outbox() == []
    with transaction.atomic():
        send_sms_on_commit(phone="13800000004", text="committed")
    assert [m.text for m in read_outbox()] == ["committed"]


def test_outbox_path_can_be_given_explicitly(tmp_path: Path) -> None:
    outbox = tmp_path / "nested" / "box.jsonl"
    FileOutboxSmsBackend(outbox).send_messages([])
    assert read_outbox(outbox) == []
