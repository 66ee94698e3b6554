from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "territories"
    verbose_name = "Territories"

    def ready(self) -> None:
        from accounts.imports import importer_register
        from core.access import coverage_rule_set

        from .audit import audit_register
        from .imports import UserImporter
        from .selectors import territory_ids_covered_by

        # The access rule of accounts asks which territories a user covers; the answer is ours (core/access.py).
        coverage_rule_set(territory_ids_covered_by)
        # Importing people places them in territories: the importer runs our kind beside its own.
        importer_register(UserImporter)
        # The audit page (core) shows territories' criteria and memberships in words: the words are ours.
        audit_register()
