from django.apps import AppConfig


class AlarmsConfig(AppConfig):
    name = "yunzheng.alarms"
    label = "alarms"

    def ready(self) -> None:
        # The direct ingest path (and the log consumer) tell every registered listener about stored
        # records; alarms evaluate them there (docs/adr/0060-alarms-real-time-rules.md).
        from yunzheng.alarms.live import on_stored_batch
        from yunzheng.exchange.hooks import register_records_listener

        register_records_listener("alarms", on_stored_batch)
