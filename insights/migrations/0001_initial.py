"""Spend potential and KPI snapshots, moved from segmentation with their tables as they are."""

import django.db.models.deletion
from django.db import migrations, models


MOVED = ['accountpotential', 'kpisnapshot']


def move_content_types(apps, schema_editor):
    """The moved models keep their content types (and with them their permissions and admin log entries)."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if content_type.objects.filter(app_label="insights", model=model).exists():
            content_type.objects.filter(app_label="segmentation", model=model).delete()
        else:
            content_type.objects.filter(app_label="segmentation", model=model).update(app_label="insights")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('segmentation', '0005_models_moved_out'),
        ('accounts', '0004_pendingrescore_moved_in'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AccountPotential',
                    fields=[
                        ('account', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='potential', serialize=False, to='accounts.account')),
                        ('win_probability', models.FloatField()),
                        ('deal_size', models.FloatField(help_text='USD')),
                        ('expected_value', models.FloatField(help_text='USD')),
                        ('band', models.CharField(help_text='The score band the win probability comes from.', max_length=20)),
                        ('computed_at', models.DateTimeField()),
                    ],
                    options={
                        'db_table': 'segmentation_accountpotential',
                        'indexes': [models.Index(fields=['-expected_value'], name='potential_value_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='KpiSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('on', models.DateField()),
                        ('kpi', models.CharField(max_length=40)),
                        ('scope', models.CharField(choices=[('all', 'Everyone'), ('territory', 'Territory'), ('owner', 'Owner')], max_length=10)),
                        ('scope_id', models.BigIntegerField(default=0, help_text='The territory or owner id; 0 for everyone.')),
                        ('numerator', models.FloatField()),
                        ('denominator', models.FloatField()),
                    ],
                    options={
                        'db_table': 'segmentation_kpisnapshot',
                        'ordering': ['on', 'kpi'],
                        'indexes': [models.Index(fields=['scope', 'scope_id', 'kpi', 'on'], name='kpi_snapshot_scope_idx')],
                        'constraints': [models.UniqueConstraint(fields=('on', 'kpi', 'scope', 'scope_id'), name='kpi_snapshot_unique')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]
