from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ElicenseConfig(AppConfig):
    name = "yunzheng.elicense"
    label = "elicense"
    verbose_name = _("Electronic licences and passes")

    def ready(self) -> None:
        # This app's own registries take part in the registry/licence consistency check; other
        # apps register their adapters the same way from their own ready().
        from yunzheng.elicense.consistency import (
            TrafficPassAdapter,
            VehicleCertificateAdapter,
            register_registry_adapter,
        )

        register_registry_adapter(VehicleCertificateAdapter())
        register_registry_adapter(TrafficPassAdapter())
