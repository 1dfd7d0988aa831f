"""gunicorn settings used by `make run` / `make serve` and the benchmarks (`--config config/gunicorn.py`).

Command-line options (bind, workers, threads) still win over what is set here.
"""

from __future__ import annotations

from typing import Any

# Each worker imports the application itself (no --preload): onnxruntime's thread pools and
# database connections must not be shared across fork.
preload_app = False

# Access log: the path without its query string (personal data travels in query strings), no
# referer; every gunicorn log line is masked like Django's (config/gunicorn_logging.py).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(L)s'
logger_class = "config.gunicorn_logging.MaskingLogger"


def post_worker_init(worker: Any) -> None:
    """After a worker has loaded the application and before it accepts requests: warm it up."""
    from config.warmup import freeze_heap, warm_up

    timings = warm_up()
    timings["heap"] = freeze_heap()
    worker.log.info(
        "worker %s warmed up: %s",
        worker.pid,
        ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items()) or "nothing to do",
    )
