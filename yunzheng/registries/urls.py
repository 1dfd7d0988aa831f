from django.urls import path

from . import views

app_name = "registries"
urlpatterns = [
    path("import/", views.upload, name="upload"),
    path("import/<slug:kind>/template.csv", views.template, name="template"),
]
