"""Who breached a handoff (the owner when the sweep marked it) and who was told of the breach.

Handoffs breached before this are given their owner as the one who breached, where the owner has not changed since
the breach (assigned no later than breached); a handoff reassigned after its breach keeps no record of who held it
then, so its breach still counts against its owner.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def blame_the_owner_at_the_breach(apps, schema_editor):
    handoff = apps.get_model("handoffs", "Handoff")
    handoff.objects.filter(breached_at__isnull=False, breached_by__isnull=True, owner__isnull=False).filter(
        models.Q(assigned_at__isnull=True) | models.Q(assigned_at__lte=models.F("breached_at"))
    ).update(breached_by=models.F("owner"))


class Migration(migrations.Migration):
    dependencies = [
        ("handoffs", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="handoff",
            name="breach_audience",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="handoff",
            name="breached_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(blame_the_owner_at_the_breach, migrations.RunPython.noop),
    ]
