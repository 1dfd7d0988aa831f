"""Mounted at /exchange/: the upload interface under v1/, the regulators' pages under staff/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from yunzheng.exchange import views

app_name = "exchange"
urlpatterns: list[URLPattern | URLResolver] = [
    path("staff/", views.staff_overview, name="staff_overview"),
    path("staff/companies/<str:company_id>/", views.staff_company, name="staff_company"),
    path("staff/orders/<str:company_id>/<str:order_id>/", views.staff_order, name="staff_order"),
    # Log mode: a provincial platform pulls its region's records with a cursor.
    path("v1/feed", views.feed, name="feed"),
    # POST /exchange/v1/<category>/<name>, e.g. /exchange/v1/position/vehicle
    path("v1/<path:path>", views.upload, name="upload"),
]
