from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "yunzheng.supervision"
    label = "supervision"
