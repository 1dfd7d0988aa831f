"""HTML pages of the One-Network Office (道路运政一网通办), mounted at /office/ by config/urls.py."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "practitioners"
urlpatterns: list[URLPattern | URLResolver] = []
