from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistriesConfig(AppConfig):
    name = "yunzheng.registries"
    label = "registries"
    verbose_name = _("Registry feeds")
