"""WSGI entry point (gunicorn config.wsgi). Django under ASGI measured ~10x slower here.

gunicorn warms each worker up through config/gunicorn.py; other servers that import this module
once per worker process set YUNZHENG_WARM_UP=1 to do the same here (see config/warmup.py).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()

if os.environ.get("YUNZHENG_WARM_UP") == "1":
    from config.warmup import freeze_heap, warm_up

    warm_up()
    freeze_heap()
