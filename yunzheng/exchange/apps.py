from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "yunzheng.exchange"
    label = "exchange"
