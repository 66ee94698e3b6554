from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    name = "handoffs"
    verbose_name = "Handoffs and SLAs"

    def ready(self) -> None:
        from .audit import audit_register

        # The audit page (core) shows SLA policies in words: the words are ours.
        audit_register()
