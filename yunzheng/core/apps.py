from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yunzheng.core"
    label = "core"

    def ready(self) -> None:
        from django.db.models import Field

        from yunzheng.core import checks  # noqa: F401  (registers the deployment checks)
        from yunzheng.core.lookups import AnyOf

        Field.register_lookup(AnyOf)  # field__any=[...]: long lists as one array parameter
