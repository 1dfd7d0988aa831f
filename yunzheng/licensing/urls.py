"""Pages of the ride-hailing platform licensing workflow, mounted at /licensing/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import contact_views, determination_views, register_views, views

app_name = "licensing"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("companies/<int:company_id>/apply/", views.apply, name="apply"),
    path("companies/<int:company_id>/evaluations/", views.evaluations, name="evaluations"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/act/", views.application_act, name="act"),
    path("applications/<int:pk>/materials/", views.material_upload, name="material_upload"),
    path("materials/<int:pk>/file/", views.material_file, name="material_file"),
    path("evaluations/<int:pk>/file/", views.evaluation_file, name="evaluation_file"),
    path("booking/", views.booking, name="booking"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("staff/", views.staff_home, name="staff_home"),
    # The whole-case view for staff is the same page as the company's, shown for the staff role.
    path("staff/applications/<int:pk>/", views.application_detail, name="staff_application"),
    path("staff/quotas/", views.staff_quotas, name="staff_quotas"),
    path("staff/slots/", views.staff_slots, name="staff_slots"),
    path("staff/expiries/", views.staff_expiries, name="staff_expiries"),
    path("applications/<int:pk>/local-review/", determination_views.local_review, name="local_review"),
    path(
        "applications/<int:pk>/contact-letters/<int:designation_id>/",
        contact_views.contact_letter,
        name="contact_letter",
    ),
    path("determinations/<int:pk>/pdf/", determination_views.determination_file, name="determination_pdf"),
    path("staff/blacklist/", register_views.staff_blacklist, name="staff_blacklist"),
    path("staff/agencies/", register_views.staff_agencies, name="staff_agencies"),
]
