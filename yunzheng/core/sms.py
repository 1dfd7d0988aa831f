"""Sending SMS through a pluggable backend, like Django's email backends.

settings.SMS_BACKEND names the class. Shipped: ConsoleSmsBackend (prints, phone masked),
FileOutboxSmsBackend (appends JSON lines to settings.SMS_OUTBOX_PATH; `make run` and the tests
read codes from it), LocmemSmsBackend (a list in memory). A real gateway implements `send_messages`.
"""

from __future__ import annotations

import fcntl
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from yunzheng.core.crypto import mask_phone


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    template: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    sent_at: str = field(default_factory=lambda: timezone.now().isoformat())


class BaseSmsBackend:
    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        for message in messages:
            sys.stdout.write(f"[SMS to {mask_phone(message.phone)}] {message.text}\n")
        sys.stdout.flush()
        return len(messages)


class FileOutboxSmsBackend(BaseSmsBackend):
    """A stand-in for the SMS gateway: the file plays the operator's side, so it holds the number."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path or settings.SMS_OUTBOX_PATH)

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(asdict(m), ensure_ascii=False) + "\n" for m in messages)
        with self.path.open("a", encoding="utf-8") as outbox:
            # Several server processes append: lock so lines never interleave.
            fcntl.flock(outbox, fcntl.LOCK_EX)
            outbox.write(lines)
            fcntl.flock(outbox, fcntl.LOCK_UN)
        return len(messages)


class LocmemSmsBackend(BaseSmsBackend):
    outbox: list[SmsMessage] = []

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        LocmemSmsBackend.outbox.extend(messages)
        return len(messages)


def get_backend() -> BaseSmsBackend:
    backend_class = import_string(settings.SMS_BACKEND)
    return backend_class()


def send_sms(*, phone: str, text: str, template: str = "", params: dict[str, Any] | None = None) -> None:
    get_backend().send_messages([SmsMessage(phone=phone, text=text, template=template, params=params or {})])


def send_sms_on_commit(
    *, phone: str, text: str, template: str = "", params: dict[str, Any] | None = None
) -> None:
    """Notices about a state change go out only if the change is committed."""
    transaction.on_commit(lambda: send_sms(phone=phone, text=text, template=template, params=params))


def read_outbox(path: Path | str | None = None, *, phone: str | None = None) -> list[SmsMessage]:
    """Messages in a file outbox, oldest first (for tests, demos and the developer console)."""
    outbox = Path(path or settings.SMS_OUTBOX_PATH)
    if not outbox.exists():
        return []
    messages = [
        SmsMessage(**json.loads(line)) for line in outbox.read_text(encoding="utf-8").splitlines() if line
    ]
    return [m for m in messages if phone is None or m.phone == phone]
