from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core: roles and jobs"

    def ready(self) -> None:
        from . import checks  # noqa: F401  # registers the start-up checks


class RevOpsAdminConfig(AdminConfig):
    default_site = "core.admin_site.RevOpsAdminSite"
