"""SLA policies and handoffs move to the handoffs app: the tables (and the policies' history) stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('territories', '0006_kpis'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='historicalslapolicy',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalslapolicy',
                    name='updated_by',
                ),
                migrations.RemoveField(
                    model_name='slapolicy',
                    name='updated_by',
                ),
                migrations.DeleteModel(
                    name='Handoff',
                ),
                migrations.DeleteModel(
                    name='HistoricalSlaPolicy',
                ),
                migrations.DeleteModel(
                    name='SlaPolicy',
                ),
            ],
            database_operations=[],
        ),
    ]
