from django.apps import AppConfig


class ConformanceConfig(AppConfig):
    name = "yunzheng.conformance"
    label = "conformance"

    def ready(self) -> None:
        # Sandbox uploads reach the exchange interface like production ones; the exchange hands
        # them here (it imports no conformance code): docs/adr/0040-conformance-sandbox-and-grading.md.
        from yunzheng.accounts.models import CompanyCredential
        from yunzheng.conformance.sandbox import record_sandbox_batch
        from yunzheng.exchange.batch_routes import register_batch_route

        register_batch_route(CompanyCredential.Environment.SANDBOX, record_sandbox_batch)
