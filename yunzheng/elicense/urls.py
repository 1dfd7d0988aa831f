"""Pages of the elicense app, included at the site root: public verification under /verify/ (and
the short upper-case /V/ link that QR codes carry), holders' and staff pages under /elicense/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from yunzheng.elicense import views

app_name = "elicense"
urlpatterns: list[URLPattern | URLResolver] = [
    path("verify/", views.verify_page, name="verify"),
    path("verify/share/", views.share_redeem_page, name="share_redeem"),
    path("verify/share/<str:code>/", views.share_redeem_page, name="share_redeem_code"),
    # The QR link: upper case so that the whole link fits the QR alphanumeric mode (see qr_payload).
    re_path(r"^V/(?P<payload>YZ1:[A-Z2-7]+)$", views.verify_link, name="verify_short"),
    path("verify/<path:payload>", views.verify_link, name="verify_link"),
    path("elicense/", views.my_licences, name="home"),
    path("elicense/licences/<str:lid>/", views.licence_page, name="licence"),
    path("elicense/licences/<str:lid>/share/", views.share_create, name="share_create"),
    path(
        "elicense/licences/<str:lid>/download.png",
        views.licence_download,
        {"kind": "png"},
        name="download_png",
    ),
    path(
        "elicense/licences/<str:lid>/download.pdf",
        views.licence_download,
        {"kind": "pdf"},
        name="download_pdf",
    ),
    path("elicense/passes/", views.pass_list, name="passes"),
    path("elicense/passes/apply/", views.pass_apply, name="pass_apply"),
    path("elicense/passes/<int:application_id>/", views.pass_detail, name="pass"),
    path(
        "elicense/passes/<int:application_id>/materials/<int:material_id>/",
        views.pass_material,
        name="pass_material",
    ),
    path("elicense/staff/passes/", views.staff_pass_queue, name="staff_passes"),
    path("elicense/staff/passes/<int:application_id>/", views.staff_pass_detail, name="staff_pass"),
    path(
        "elicense/staff/passes/<int:application_id>/materials/<int:material_id>/",
        views.staff_pass_material,
        name="staff_pass_material",
    ),
    path("elicense/staff/sync/", views.staff_sync_report, name="staff_sync"),
    path("elicense/staff/licences/<str:lid>/", views.staff_licence, name="staff_licence"),
    path(
        "elicense/staff/licences/<str:lid>/download.pdf",
        views.staff_licence_download,
        {"kind": "pdf"},
        name="staff_download_pdf",
    ),
    path(
        "elicense/staff/licences/<str:lid>/download.png",
        views.staff_licence_download,
        {"kind": "png"},
        name="staff_download_png",
    ),
]
