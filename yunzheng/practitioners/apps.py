from django.apps import AppConfig


class PractitionersConfig(AppConfig):
    name = "yunzheng.practitioners"
    label = "practitioners"

    def ready(self) -> None:
        # Certificates and credit vouchers take part in the registry/licence consistency check.
        from yunzheng.elicense.consistency import register_registry_adapter
        from yunzheng.practitioners.consistency import CreditVoucherAdapter, QualificationCertificateAdapter

        register_registry_adapter(QualificationCertificateAdapter())
        register_registry_adapter(CreditVoucherAdapter())
