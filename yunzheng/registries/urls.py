from django.urls import path

from . import credential_views, record_views, register_views, views

app_name = "registries"
urlpatterns = [
    path("import/", views.upload, name="upload"),
    path("import/<slug:kind>/template.csv", views.template, name="template"),
    path("registers/", register_views.index, name="index"),
    path("credentials/", credential_views.credentials, name="credentials"),
    path("credentials/<str:key_id>/revoke/", credential_views.credential_revoke, name="credential_revoke"),
    path("registers/licences/new/", record_views.licence_issue, name="licence_issue"),
    path("registers/certificates/<str:number>/", record_views.certificate, name="certificate"),
    path("registers/vehicles/<str:number>/", record_views.vehicle, name="vehicle"),
    path("registers/violations/<int:pk>/", record_views.violation, name="violation"),
    path("registers/licences/<str:number>/", record_views.licence, name="licence"),
    path("registers/verification/<int:pk>/", record_views.verification_request, name="verification_request"),
    path("registers/<slug:key>/", register_views.register, name="register"),
]
