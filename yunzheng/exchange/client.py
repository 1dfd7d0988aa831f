"""A small client for companies' uploaders: batches, retries, reports errors (stdlib only).

    client = ExchangeClient("https://yunzheng.example.cn", token="yz_…", company_id="3301YZCX0001")
    report = client.send("positionVehicle", records)
    for r in report.rejected:            # index into `records`, with field / rule / message
        print(r.index, r.errors)

Retries are safe because the server is idempotent (same company, interface, natural key and
version = stored once): connection errors, 5xx and 429 are retried with exponential backoff;
4xx answers are never retried - a 422 with per-record rejections is part of the report, other
4xx raise :class:`ExchangeError`. One client keeps one keep-alive connection; use one per thread.
"""

from __future__ import annotations

import gzip
import http.client
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class ExchangeError(Exception):
    """The server refused a request as a whole (4xx other than per-record rejections), or the
    retries were exhausted."""

    def __init__(self, status: int, code: str, message: str, body: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body


@dataclass(frozen=True)
class RejectedRecord:
    index: int  # position in the records passed to send()
    errors: list[dict[str, str]]  # [{"field", "code", "message"}]


@dataclass
class SendReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[RejectedRecord] = field(default_factory=list)
    batches: int = 0
    retries: int = 0
    batch_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


class ExchangeClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        company_id: str,
        *,
        wire: str = "json",
        batch_size: int = 1000,
        max_retries: int = 5,
        timeout: float = 30.0,
        compress: bool = False,
        backoff_seconds: float = 0.5,
        source: str = "0",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if wire not in ("json", "protobuf"):
            raise ValueError("wire must be 'json' or 'protobuf'")
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/") + "/exchange/v1"
        self.token = token
        self.company_id = company_id
        self.wire = wire
        self.batch_size = max(1, batch_size)
        self.max_retries = max_retries
        self.timeout = timeout
        self.compress = compress
        self.backoff_seconds = backoff_seconds
        self.source = source
        self._sleep = sleep
        self._conn: http.client.HTTPConnection | None = None

    # --- public -------------------------------------------------------------------------------

    def send(self, interface_type: str, records: Sequence[dict[str, Any]]) -> SendReport:
        """Upload ``records`` of one interface in batches of ``batch_size``."""
        from yunzheng.exchange.spec import get_spec

        path = self._prefix + get_spec().interface(interface_type).http_path
        report = SendReport()
        for start in range(0, len(records), self.batch_size):
            chunk = records[start : start + self.batch_size]
            answer, retries = self._post_batch(path, self._encode(interface_type, chunk))
            report.batches += 1
            report.retries += retries
            report.accepted += int(answer.get("accepted", 0))
            report.duplicates += int(answer.get("duplicates", 0))
            if answer.get("batch_id") is not None:
                report.batch_ids.append(int(answer["batch_id"]))
            for item in answer.get("rejected", []):
                report.rejected.append(
                    RejectedRecord(index=start + int(item["index"]), errors=item["errors"])
                )
        return report

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ExchangeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ----------------------------------------------------------------------------

    def _encode(self, interface_type: str, records: Sequence[dict[str, Any]]) -> tuple[bytes, dict[str, str]]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if self.wire == "protobuf":
            from yunzheng.exchange.spec.protobuf import encode_otipc

            body = encode_otipc(self.company_id, interface_type, records, source=self.source, partial=True)
            headers["Content-Type"] = "application/x-protobuf"
        else:
            envelope = {
                "CompanyId": self.company_id,
                "Source": self.source,
                "IPCType": interface_type,
                interface_type: list(records),
            }
            body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        if self.compress:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        return body, headers

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.timeout)
        return self._conn

    def _post_batch(self, path: str, encoded: tuple[bytes, dict[str, str]]) -> tuple[dict[str, Any], int]:
        body, headers = encoded
        attempt = 0
        while True:
            status: int | None = None
            payload: Any = None
            problem = ""
            try:
                conn = self._connection()
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                try:
                    payload = json.loads(raw) if raw else {}
                except ValueError:
                    payload = {
                        "error": {"code": "invalid_response", "message": raw[:200].decode("utf-8", "replace")}
                    }
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                problem = f"{type(exc).__name__}: {exc}"
            if status is not None and status not in RETRYABLE_STATUS:
                if status == 200 or (status == 422 and isinstance(payload, dict) and "result" in payload):
                    return payload, attempt
                error = payload.get("error", {}) if isinstance(payload, dict) else {}
                raise ExchangeError(
                    status, error.get("code", f"http_{status}"), error.get("message", ""), payload
                )
            if attempt >= self.max_retries:
                if status is not None:
                    error = payload.get("error", {}) if isinstance(payload, dict) else {}
                    raise ExchangeError(
                        status, error.get("code", f"http_{status}"), "retries exhausted", payload
                    )
                raise ExchangeError(0, "connection_failed", f"retries exhausted: {problem}")
            delay = self.backoff_seconds * 2**attempt * (0.5 + random.random())  # noqa: S311 - jitter
            self._sleep(delay)
            attempt += 1
