from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "atende.tenancy"
    label = "tenancy"
    verbose_name = _("Operators")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from atende.tenancy.timezones import time_zone_remembered

        user_logged_in.connect(time_zone_remembered, dispatch_uid="atende.tenancy.time_zone")
