from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "yunzheng.licensing"
    label = "licensing"

    def ready(self) -> None:
        # Operating licences take part in the registry/licence consistency check.
        from yunzheng.elicense.consistency import register_registry_adapter
        from yunzheng.licensing.consistency import CapabilityDeterminationAdapter, OperatingLicenceAdapter

        register_registry_adapter(OperatingLicenceAdapter())
        register_registry_adapter(CapabilityDeterminationAdapter())

        # A new contact person is told to the authorities handling open applications (#17 item 8).
        from yunzheng.accounts.hooks import on_contact_changed
        from yunzheng.licensing.services.contact import contact_change_notify_authorities

        on_contact_changed("licensing", contact_change_notify_authorities)
