from django.apps import AppConfig


class ConformanceConfig(AppConfig):
    name = "yunzheng.conformance"
    label = "conformance"
