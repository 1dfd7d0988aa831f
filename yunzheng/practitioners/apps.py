from django.apps import AppConfig


class PractitionersConfig(AppConfig):
    name = "yunzheng.practitioners"
    label = "practitioners"
