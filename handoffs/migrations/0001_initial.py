"""SLA policies and handoffs, moved from territories with their tables (territories_slapolicy, territories_handoff,
territories_historicalslapolicy) as they are."""

import core.fields
import django.db.models.deletion
import handoffs.models
import simple_history.models
from django.conf import settings
from django.db import migrations, models


MOVED = ['slapolicy', 'historicalslapolicy', 'handoff']


def move_content_types(apps, schema_editor):
    """The moved models keep their content types (and with them their permissions and admin log entries)."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if content_type.objects.filter(app_label="handoffs", model=model).exists():
            content_type.objects.filter(app_label="territories", model=model).delete()
        else:
            content_type.objects.filter(app_label="territories", model=model).update(app_label="handoffs")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('accounts', '0004_pendingrescore_moved_in'),
        ('segmentation', '0005_models_moved_out'),
        ('territories', '0007_models_moved_out'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalSlaPolicy',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('tier', models.CharField(choices=[('tier_1', 'Tier 1'), ('tier_2', 'Tier 2'), ('tier_3', 'Tier 3')], db_index=True, max_length=10)),
                        ('accept_within_hours', models.PositiveIntegerField(help_text="Hours (on the policy's clock) to accept or reject.")),
                        ('calendar', models.CharField(choices=[('24x7', '24x7'), ('business_hours', 'Business hours')], default='business_hours', max_length=20)),
                        ('time_zone', models.CharField(default='UTC', help_text='An IANA time zone, e.g. Europe/Berlin.', max_length=64)),
                        ('working_days', core.fields.ListField(base='int', default=handoffs.models.default_working_days, help_text='0 = Monday ... 6 = Sunday.')),
                        ('start_hour', models.PositiveSmallIntegerField(default=9, help_text="The working day's first hour (0-23).")),
                        ('end_hour', models.PositiveSmallIntegerField(default=17, help_text="The working day's end (1-24), after the start.")),
                        ('breach_action', models.CharField(choices=[('notify_manager', 'Notify the manager'), ('reassign', 'Reassign to the next eligible member'), ('recycle', 'Recycle the account')], default='notify_manager', max_length=20)),
                        ('updated_at', models.DateTimeField(blank=True, editable=False)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('updated_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical SLA policy',
                        'verbose_name_plural': 'historical SLA policies',
                        'db_table': 'territories_historicalslapolicy',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='SlaPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('tier', models.CharField(choices=[('tier_1', 'Tier 1'), ('tier_2', 'Tier 2'), ('tier_3', 'Tier 3')], max_length=10, unique=True)),
                        ('accept_within_hours', models.PositiveIntegerField(help_text="Hours (on the policy's clock) to accept or reject.")),
                        ('calendar', models.CharField(choices=[('24x7', '24x7'), ('business_hours', 'Business hours')], default='business_hours', max_length=20)),
                        ('time_zone', models.CharField(default='UTC', help_text='An IANA time zone, e.g. Europe/Berlin.', max_length=64)),
                        ('working_days', core.fields.ListField(base='int', default=handoffs.models.default_working_days, help_text='0 = Monday ... 6 = Sunday.')),
                        ('start_hour', models.PositiveSmallIntegerField(default=9, help_text="The working day's first hour (0-23).")),
                        ('end_hour', models.PositiveSmallIntegerField(default=17, help_text="The working day's end (1-24), after the start.")),
                        ('breach_action', models.CharField(choices=[('notify_manager', 'Notify the manager'), ('reassign', 'Reassign to the next eligible member'), ('recycle', 'Recycle the account')], default='notify_manager', max_length=20)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('updated_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'SLA policy',
                        'verbose_name_plural': 'SLA policies',
                        'db_table': 'territories_slapolicy',
                        'ordering': ['tier'],
                    },
                ),
                migrations.CreateModel(
                    name='Handoff',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('tier', models.CharField(choices=[('tier_1', 'Tier 1'), ('tier_2', 'Tier 2'), ('tier_3', 'Tier 3')], max_length=10)),
                        ('assigned_at', models.DateTimeField(blank=True, help_text="When the owner got it: the clock's start.", null=True)),
                        ('accept_due_at', models.DateTimeField(blank=True, null=True)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('accepted', 'Accepted'), ('rejected', 'Rejected'), ('expired', 'Expired')], default='pending', max_length=10)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('reason', models.CharField(blank=True, choices=[('not_icp', 'Not our ICP'), ('no_budget', 'No budget'), ('existing_customer', 'Existing customer'), ('duplicate', 'Duplicate'), ('bad_timing', 'Bad timing'), ('competitor', 'Competitor'), ('other', 'Other')], max_length=20)),
                        ('note', models.TextField(blank=True)),
                        ('breached_at', models.DateTimeField(blank=True, null=True)),
                        ('breach_notified_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('owner_notified_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='handoffs', to='accounts.account')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('mqa', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='handoff', to='segmentation.mqa')),
                        ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='handoffs', to=settings.AUTH_USER_MODEL)),
                        ('territory', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='handoffs', to='territories.territory')),
                    ],
                    options={
                        'db_table': 'territories_handoff',
                        'ordering': ['accept_due_at', 'pk'],
                        'indexes': [models.Index(fields=['owner', 'status', 'accept_due_at'], name='handoff_owner_due_idx'), models.Index(condition=models.Q(('breached_at__isnull', True), ('status', 'pending')), fields=['accept_due_at'], name='handoff_overdue_idx'), models.Index(fields=['territory', 'status'], name='handoff_territory_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]
