"""The rescore queue moves here from segmentation (accounts/changes.py fills it); its table is kept."""

from django.db import migrations, models


MOVED = ['pendingrescore']


def move_content_types(apps, schema_editor):
    """The moved models keep their content types (and with them their permissions and admin log entries)."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if content_type.objects.filter(app_label="accounts", model=model).exists():
            content_type.objects.filter(app_label="segmentation", model=model).delete()
        else:
            content_type.objects.filter(app_label="segmentation", model=model).update(app_label="accounts")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('segmentation', '0005_models_moved_out'),
        ('accounts', '0003_signal_covering_index'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='PendingRescore',
                    fields=[
                        ('account_id', models.BigIntegerField(primary_key=True, serialize=False)),
                        ('requested_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'db_table': 'segmentation_pendingrescore',
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]
