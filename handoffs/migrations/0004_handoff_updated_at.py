"""A handoff's `updated_at` (rows already there take the migration's time) and its index for the API's `updated_since`,
built concurrently: the table holds millions of rows."""

from django.conf import settings
from django.db import migrations, models

from core.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('accounts', '0010_updated_since_indexes'),
        ('handoffs', '0003_sla_holidays'),
        ('segmentation', '0012_rollups'),
        ('territories', '0010_scenarios'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='handoff',
            name='updated_at',
            field=models.DateTimeField(auto_now=True),
        ),
        AddIndexConcurrently(
            model_name='handoff',
            index=models.Index(fields=['updated_at'], name='handoff_updated_idx'),
        ),
    ]
