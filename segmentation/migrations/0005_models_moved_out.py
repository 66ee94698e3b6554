"""Spend potential and KPI snapshots move to insights, the rescore queue to accounts: the tables stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('segmentation', '0004_kpis'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='accountpotential',
                    name='account',
                ),
                migrations.DeleteModel(
                    name='KpiSnapshot',
                ),
                migrations.DeleteModel(
                    name='PendingRescore',
                ),
                migrations.DeleteModel(
                    name='AccountPotential',
                ),
            ],
            database_operations=[],
        ),
    ]
