from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "yunzheng.licensing"
    label = "licensing"

    def ready(self) -> None:
        # Operating licences take part in the registry/licence consistency check.
        from yunzheng.elicense.consistency import register_registry_adapter
        from yunzheng.licensing.consistency import OperatingLicenceAdapter

        register_registry_adapter(OperatingLicenceAdapter())
