"""Work a server process does once when it starts, so the first request is as fast as later ones.

Today: loading the OCR models of real-name verification (2-6 s, onnxruntime) instead of on the
first uploaded ID photo. Then, in a server process only, `freeze_heap` (`gc.freeze`), so that
the full garbage collections that request garbage triggers (an upload of 1,000 records makes
thousands of dicts) no longer walk the hundreds of thousands of objects of Django, the interface
spec and the models: those collections were the tail of the exchange's acknowledgement latency
(docs/benchmarks.md).

Called by gunicorn's `post_worker_init` hook (config/gunicorn.py), and by config/wsgi.py when
YUNZHENG_WARM_UP=1 for other WSGI servers (uWSGI, mod_wsgi, waitress), which import the
application once per worker process. `manage.py warm_up` runs the same steps and prints their
times (a deploy check that the models load on this host). Skipped when settings say
`WARM_UP_ON_START = False`.
"""

from __future__ import annotations

import gc
import logging
import time

from yunzheng.core.conf import app_settings as core_settings

logger = logging.getLogger("yunzheng.warmup")


def warm_up() -> dict[str, float]:
    """Run every warm-up step; returns seconds per step. A failing step is logged, not raised:
    the worker still serves (that step then happens on first use, as before)."""
    timings: dict[str, float] = {}
    if not core_settings.WARM_UP_ON_START:
        return timings
    from yunzheng.accounts import ocr

    try:
        timings["ocr"] = ocr.warm_up()
    except Exception:
        logger.exception("warm-up of the OCR models failed; they will load on the first photo")
    logger.info("warm-up done: %s", ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items()))
    return timings


def freeze_heap() -> float:
    """Move every object alive now to the collector's permanent generation; returns seconds.

    Only for a server process that has finished starting (its later garbage is request garbage):
    full collections then walk the objects made since, not the whole start-up heap.
    """
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started
