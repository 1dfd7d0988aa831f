from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "yunzheng.licensing"
    label = "licensing"
