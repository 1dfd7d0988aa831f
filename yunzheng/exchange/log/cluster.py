"""A local JetStream cluster of ``nats-server`` processes on loopback (tests and benchmarks only).

Each node: ``nats-server -a 127.0.0.1 -p <client> --cluster_name yz --cluster nats://...:<route>
--routes <the others> -js -sd <dir>``. Ports are chosen free at start (two test workers run at
once); a killed node restarts on the same ports and store directory.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LocalCluster:
    def __init__(self, nodes: int = 3, *, ports: list[tuple[int, int]] | None = None) -> None:
        self.binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        self.dir = Path(tempfile.mkdtemp(prefix="yz-jetstream-"))
        self.ports = ports or [(free_port(), free_port()) for _ in range(nodes)]
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * len(self.ports)

    @property
    def urls(self) -> list[str]:
        return [f"nats://127.0.0.1:{client}" for client, _ in self.ports]

    def _args(self, i: int) -> list[str]:
        client, route = self.ports[i]
        routes = ",".join(f"nats://127.0.0.1:{r}" for j, (_, r) in enumerate(self.ports) if j != i)
        args = [self.binary, "-a", "127.0.0.1", "-p", str(client), "-n", f"yz-{i}", "-js"]
        args += ["-sd", str(self.dir / f"n{i}")]
        if len(self.ports) > 1:
            args += ["--cluster_name", "yz", "--cluster", f"nats://127.0.0.1:{route}", "--routes", routes]
        return args

    def start_node(self, i: int) -> None:
        log = (self.dir / f"n{i}.log").open("ab")
        self.procs[i] = subprocess.Popen(self._args(i), stdout=log, stderr=subprocess.STDOUT)  # noqa: S603

    def start(self) -> LocalCluster:
        for i in range(len(self.ports)):
            self.start_node(i)
        for client, _ in self.ports:
            wait_port(client)
        return self

    def kill_node(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            self.procs[i] = None

    def stop(self) -> None:
        for i, proc in enumerate(self.procs):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                self.procs[i] = None
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def use_fresh_stream(settings: Any, urls: list[str], *, publish_timeout: float = 3) -> None:
    """Point Django ``settings`` at ``urls`` and give the test a clean stream and consumers (a
    new cluster elects its meta leader a moment after start: retried for up to 30 s)."""
    from yunzheng.exchange.log import runtime
    from yunzheng.exchange.log.settings import log_settings
    from yunzheng.exchange.log.setup import log_setup

    settings.EXCHANGE_LOG_SERVERS = urls
    settings.EXCHANGE_LOG_PUBLISH_TIMEOUT_SECONDS = publish_timeout

    async def drop() -> None:
        js = await runtime.jetstream(urls, 3)
        with contextlib.suppress(Exception):
            await js.delete_stream(log_settings().stream)

    deadline = time.monotonic() + 30
    while True:
        try:
            runtime.run(drop(), timeout=10)
            log_setup()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
