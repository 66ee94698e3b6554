"""A baseline history record for rows that existed before their model was audited, so the first change made after
it shows what it changed (for the audit trail's data migrations)."""

from django.utils import timezone


def baseline(app_label: str, *model_names: str):
    """A RunPython function writing one "created" history record for each existing row without history."""

    def run(apps, schema_editor):
        now = timezone.now()
        for name in model_names:
            model = apps.get_model(app_label, name)
            historical = apps.get_model(app_label, f"Historical{name}")
            known = set(historical.objects.values_list("id", flat=True))
            attnames = [f.attname for f in model._meta.concrete_fields]
            historical.objects.bulk_create(
                historical(
                    **{attname: getattr(row, attname) for attname in attnames},
                    history_date=now,
                    history_type="+",
                    history_change_reason="Recorded when the audit trail began",
                )
                for row in model.objects.exclude(pk__in=known)
            )

    return run
