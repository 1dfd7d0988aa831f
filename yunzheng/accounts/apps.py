from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "yunzheng.accounts"
    label = "accounts"

    def ready(self) -> None:
        from yunzheng.accounts.permissions import allowed
        from yunzheng.core import portal

        # The workbench shows a queue only when the permission table allows its action.
        portal.register_authorizer(lambda user, action: allowed(user, action))
