from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yunzheng.core"
    label = "core"

    def ready(self) -> None:
        from yunzheng.core import checks  # noqa: F401  (registers the deployment checks)
