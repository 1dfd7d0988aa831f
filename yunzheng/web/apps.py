from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "yunzheng.web"
    label = "web"
