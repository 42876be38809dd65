from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "atende.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from atende.core.db import runtime_role_grant

        # Once per migrate (post_migrate is sent for each app), when every table exists.
        post_migrate.connect(runtime_role_grant, sender=self)
