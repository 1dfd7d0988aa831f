"""HTML pages of the One-Network Office (道路运政一网通办), mounted at /office/ by config/urls.py."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from yunzheng.practitioners import views

app_name = "practitioners"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.office_home, name="home"),
    path("services/<slug:slug>/", views.service_detail, name="service_detail"),
    path("services/<slug:slug>/certificate/", views.service_certificate, name="service_certificate"),
    path("cases/<int:pk>/info/", views.case_info, name="case_info"),
    path("cases/<int:pk>/delivery/", views.case_delivery, name="case_delivery"),
    path("cases/<int:pk>/materials/", views.case_materials, name="case_materials"),
    path("cases/<int:pk>/review/", views.case_review, name="case_review"),
    path("cases/<int:pk>/discard/", views.case_discard, name="case_discard"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/withdraw/", views.case_withdraw, name="case_withdraw"),
    path("cases/<int:pk>/supplement/", views.case_supplement, name="case_supplement"),
    path("cases/<int:pk>/materials/<int:material_pk>/", views.material_file, name="material_file"),
    path("cases/<int:pk>/voucher.png", views.voucher_png, name="voucher_png"),
    path("cases/<int:pk>/voucher.pdf", views.voucher_pdf, name="voucher_pdf"),
    path("mine/", views.my_cases, name="my_cases"),
    path("certificates/", views.my_certificates, name="my_certificates"),
    path("staff/", views.staff_queue, name="staff_queue"),
    path("staff/materials/", views.staff_material_lists, name="staff_material_lists"),
    path("staff/contacts/", views.staff_contacts, name="staff_contacts"),
    path("staff/cases/<int:pk>/", views.staff_case, name="staff_case"),
]
