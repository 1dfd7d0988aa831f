"""Pages of the ride-hailing platform licensing workflow, mounted at /licensing/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "licensing"
urlpatterns: list[URLPattern | URLResolver] = []
