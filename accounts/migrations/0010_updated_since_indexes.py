"""Indexes for the API's `updated_since` on accounts, contacts, opportunities and signals (signals: their created_at),
built concurrently: the tables hold millions of rows and ingestion goes on while they build."""

from django.conf import settings
from django.db import migrations, models

from core.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('accounts', '0009_account_lookalike'),
        ('territories', '0010_scenarios'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='account',
            index=models.Index(fields=['updated_at'], name='account_updated_idx'),
        ),
        AddIndexConcurrently(
            model_name='contact',
            index=models.Index(fields=['updated_at'], name='contact_updated_idx'),
        ),
        AddIndexConcurrently(
            model_name='opportunity',
            index=models.Index(fields=['updated_at'], name='opportunity_updated_idx'),
        ),
        AddIndexConcurrently(
            model_name='signal',
            index=models.Index(fields=['created_at'], name='signal_created_idx'),
        ),
    ]
