"""Pages of the supervision app, mounted at /supervision/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from yunzheng.supervision import views

app_name = "supervision"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="dashboard"),
    path("noncompliant/", views.noncompliant, name="noncompliant"),
    path("quality/", views.quality, name="quality"),
    path("compute/", views.compute, name="compute"),
    re_path(r"^export/(?P<dataset>[a-z_]+)\.(?P<fmt>csv|xlsx)$", views.export, name="export"),
    re_path(r"^bulletin/(?P<month>\d{4}-\d{2})/$", views.bulletin, name="bulletin"),
    re_path(r"^bulletin/(?P<month>\d{4}-\d{2})\.pdf$", views.bulletin_pdf, name="bulletin_pdf"),
]
