"""Pages of the alarms: the desk, rules, the company view; mounted at /supervision/alarms/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from yunzheng.alarms import views

app_name = "alarms"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.desk, name="desk"),
    path("<int:alarm_id>/", views.detail, name="detail"),
    path("<int:alarm_id>/act/", views.act, name="act"),
    path("duty/", views.duty, name="duty"),
    re_path(r"^export\.(?P<fmt>csv|xlsx)$", views.export, name="export"),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/enabled/", views.rule_enabled, name="rule_enabled"),
    path("company/", views.company_list, name="company_list"),
    path("company/<int:alarm_id>/", views.company_detail, name="company_detail"),
]
