from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yunzheng.core"
    label = "core"
