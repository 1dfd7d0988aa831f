from django.apps import AppConfig


class ElicenseConfig(AppConfig):
    name = "yunzheng.elicense"
    label = "elicense"
