"""Top-level URL map. Each app owns its own `urls.py`; the JSON API lives under /api/."""

from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from config.api import api
from yunzheng.web import views as web_views

# The admin sees everyone's data: it takes a password and a TOTP code, like every staff login.
admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("", include("yunzheng.web.urls")),
    path("accounts/", include("yunzheng.accounts.urls")),
    # One-Network Office (道路运政一网通办).
    path("office/", include("yunzheng.practitioners.urls")),
    path("licensing/", include("yunzheng.licensing.urls")),
    path("conformance/", include("yunzheng.conformance.urls")),
    path("supervision/alarms/", include("yunzheng.alarms.urls")),
    path("supervision/", include("yunzheng.supervision.urls")),
    path("registries/", include("yunzheng.registries.urls")),
    # The ministry interface: POST /exchange/v1/<category>/<name> (JSON or protobuf).
    path("exchange/", include("yunzheng.exchange.urls")),
    # Electronic licences: public verification pages live under /verify/ (elicense.urls).
    path("", include("yunzheng.elicense.urls")),
    path("healthz", web_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]

handler400 = "yunzheng.web.views.bad_request"
handler403 = "yunzheng.web.views.permission_denied"
handler404 = "yunzheng.web.views.page_not_found"
handler500 = "yunzheng.web.views.server_error"
