from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # An import job's page words its result through this app (core imports no app).
        from core.jobs import job_result_describer_register
        from core.models import Job

        from .import_views import import_result_words

        job_result_describer_register(Job.Kind.IMPORT.value, import_result_words)
