"""gunicorn settings used by `make run` / `make serve` and the benchmarks (`--config config/gunicorn.py`).

Command-line options (bind, workers, threads) still win over what is set here.
"""

from __future__ import annotations

from typing import Any

# Each worker imports the application itself (no --preload): onnxruntime's thread pools and
# database connections must not be shared across fork.
preload_app = False


def post_worker_init(worker: Any) -> None:
    """After a worker has loaded the application and before it accepts requests: warm it up."""
    from config.warmup import warm_up

    timings = warm_up()
    worker.log.info(
        "worker %s warmed up: %s",
        worker.pid,
        ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items()) or "nothing to do",
    )
