"""Work a server process does once when it starts, so the first request is as fast as later ones.

Today: loading the OCR models of real-name verification (2-6 s, onnxruntime) instead of on the
first uploaded ID photo. Called by gunicorn's `post_worker_init` hook (config/gunicorn.py), and by
config/wsgi.py when YUNZHENG_WARM_UP=1 for other WSGI servers (uWSGI, mod_wsgi, waitress), which
import the application once per worker process. `manage.py warm_up` runs the same steps and prints
their times (a deploy check that the models load on this host). Skipped when settings say
`WARM_UP_ON_START = False`.
"""

from __future__ import annotations

import logging

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
