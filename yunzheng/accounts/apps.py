from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "yunzheng.accounts"
    label = "accounts"
