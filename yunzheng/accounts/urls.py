from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import staff_credential_views, views

app_name = "accounts"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("agreement/", views.user_agreement, name="user_agreement"),
    path("privacy/", views.privacy_policy, name="privacy_policy"),
    path("real-name/", views.realname, name="realname"),
    path("real-name/<int:pk>/confirm/", views.realname_confirm, name="realname_confirm"),
    path("real-name/<int:pk>/photo/", views.realname_own_photo, name="realname_photo"),
    path("companies/", views.company_list, name="company_list"),
    path("companies/register/", views.company_register, name="company_register"),
    path("companies/<int:pk>/", views.company_detail, name="company_detail"),
    path(
        "companies/<int:pk>/credentials/", views.company_credential_create, name="company_credential_create"
    ),
    path(
        "companies/<int:pk>/credentials/<int:credential_pk>/revoke/",
        views.company_credential_revoke,
        name="company_credential_revoke",
    ),
    path("companies/<int:pk>/members/", views.company_member_add, name="company_member_add"),
    path("companies/<int:pk>/contact/", views.company_contact_change, name="company_contact_change"),
    path("staff/login/", views.staff_login, name="staff_login"),
    path("staff/otp/", views.staff_otp, name="staff_otp"),
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/enrol/<str:token>/", staff_credential_views.staff_enrol, name="staff_enrol"),
    path(
        "staff/reset/<str:token>/", staff_credential_views.staff_password_reset, name="staff_password_reset"
    ),
    path("staff/password/", staff_credential_views.staff_password_change, name="staff_password_change"),
    path("staff/permissions/", staff_credential_views.staff_permissions, name="staff_permissions"),
    path("staff/real-name/", views.staff_realname_queue, name="staff_realname_queue"),
    path("staff/real-name/<int:pk>/", views.staff_realname_detail, name="staff_realname_detail"),
    path("staff/real-name/<int:pk>/photo/", views.staff_realname_photo, name="staff_realname_photo"),
]
