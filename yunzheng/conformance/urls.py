"""Pages of the conformance app, mounted at /conformance/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "conformance"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("companies/<int:company_id>/campaigns/", views.campaign_start, name="campaign_start"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/cycles/", views.cycle_open, name="cycle_open"),
    path("campaigns/<int:pk>/end/", views.campaign_end, name="campaign_end"),
    path("campaigns/<int:pk>/compare/", views.campaign_compare, name="compare"),
    path("campaigns/<int:pk>/report.pdf", views.campaign_report_pdf, name="report_pdf"),
    path("cycles/<int:pk>/", views.cycle_detail, name="cycle"),
    path("cycles/<int:pk>/close/", views.cycle_close, name="cycle_close"),
    path("spec/", views.spec_page, name="spec"),
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/official/", views.staff_official_start, name="staff_official_start"),
    path("staff/companies/<int:company_id>/", views.staff_company, name="staff_company"),
]
