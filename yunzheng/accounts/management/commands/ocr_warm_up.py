"""`manage.py ocr_warm_up`: load the OCR models, run one small recognition and print the time.

A deploy check that the models load on this host. Server workers warm themselves up at start
(config/gunicorn.py; YUNZHENG_WARM_UP=1 for other WSGI servers, see config/warmup.py): a
command runs in its own process and cannot warm another.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yunzheng.accounts import ocr


class Command(BaseCommand):
    help = "Load the OCR models and run one recognition; print how long it took."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            seconds = ocr.warm_up()
        except Exception as error:
            raise CommandError(f"the OCR models did not load: {error}") from error
        self.stdout.write(f"OCR models loaded and run in {seconds:.2f} s")
