"""One asyncio event loop thread per process for nats-py, used from synchronous Django code.

nats-py is asyncio-only while Django serves requests from WSGI threads. Each process (each
gunicorn worker, each consumer) starts one daemon thread running an event loop, lazily, at first
use - never at import, so a pre-forking server does not share a loop or a socket across ``fork``
(the runtime remembers the pid that made it and is rebuilt in a child). Request threads submit
coroutines with ``asyncio.run_coroutine_threadsafe`` and wait for their result with a timeout.

One NATS connection per server list per process, reconnecting forever in the background
(``max_reconnect_attempts=-1``); while it is down, calls time out and the caller answers 503.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from yunzheng.exchange.log.errors import LogUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")
__all__ = ["LogUnavailable", "close", "jetstream", "run", "runtime"]


CONNECT_SECONDS = 3.0


class _Runtime:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="exchange-log", daemon=True)
        self.thread.start()
        self.clients: dict[tuple[str, ...], tuple[NATS, JetStreamContext]] = {}
        self.locks: dict[tuple[str, ...], asyncio.Lock] = {}

    async def client(self, servers: tuple[str, ...], timeout: float) -> tuple[NATS, JetStreamContext]:
        lock = self.locks.setdefault(servers, asyncio.Lock())
        async with lock:
            found = self.clients.get(servers)
            if found is not None and not found[0].is_closed:
                return found

            async def on_error(exc: Exception) -> None:
                logger.warning("exchange log: %s", exc)

            async def on_disconnect() -> None:
                logger.warning("exchange log: disconnected from %s", ",".join(servers))

            # Reconnects are retried forever once connected; the first connection is bounded (a
            # cluster that is down answers 503 now, not after an endless first attempt).
            nc = await asyncio.wait_for(
                self._connect(servers, on_error, on_disconnect), timeout=CONNECT_SECONDS
            )
            found = (nc, nc.jetstream(timeout=timeout))
            self.clients[servers] = found
            return found

    async def _connect(self, servers: tuple[str, ...], on_error: Any, on_disconnect: Any) -> NATS:
        return await nats.connect(
            servers=list(servers),
            name=f"yunzheng-{self.pid}",
            connect_timeout=2,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,
            ping_interval=5,
            max_outstanding_pings=2,
            error_cb=on_error,
            disconnected_cb=on_disconnect,
        )

    async def close(self, servers: tuple[str, ...] | None = None) -> None:
        for key, (nc, _) in list(self.clients.items()):
            if servers is None or key == servers:
                with contextlib.suppress(Exception):  # closing anyway
                    await nc.close()
                del self.clients[key]


_runtime: _Runtime | None = None
_runtime_lock = threading.Lock()


def runtime() -> _Runtime:
    """This process's runtime, made at first use (and again after a fork)."""
    global _runtime
    rt = _runtime
    if rt is None or rt.pid != os.getpid():
        with _runtime_lock:
            rt = _runtime
            if rt is None or rt.pid != os.getpid():
                rt = _runtime = _Runtime()
    return rt


def run(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """Run ``coro`` on the log's loop and wait up to ``timeout`` s; LogUnavailable on timeout or
    on any NATS/connection error."""
    future = asyncio.run_coroutine_threadsafe(coro, runtime().loop)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError as exc:
        future.cancel()
        raise LogUnavailable(f"the log did not answer within {timeout:g} s") from exc
    except (TimeoutError, nats.errors.Error, nats.js.errors.Error, OSError) as exc:
        if isinstance(exc, nats.js.errors.APIError) and not isinstance(
            exc, nats.js.errors.ServiceUnavailableError
        ):
            raise
        raise LogUnavailable(f"{type(exc).__name__}: {exc}") from exc


async def jetstream(servers: Sequence[str], timeout: float) -> JetStreamContext:
    """The JetStream context of this process's connection to ``servers`` (on the loop)."""
    _, js = await runtime().client(tuple(servers), timeout)
    return js


def close(servers: Sequence[str] | None = None) -> None:
    """Close this process's connections (to ``servers`` only, if given): tests, commands on exit."""
    rt = _runtime
    if rt is not None and rt.pid == os.getpid():
        key = tuple(servers) if servers is not None else None
        asyncio.run_coroutine_threadsafe(rt.close(key), rt.loop).result(5)
