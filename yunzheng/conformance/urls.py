"""Pages of the conformance app, mounted at /conformance/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "conformance"
urlpatterns: list[URLPattern | URLResolver] = []
