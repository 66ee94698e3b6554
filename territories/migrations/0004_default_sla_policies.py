"""Default SLA policies, one per tier, for a workspace that has none yet (existing policies are kept)."""

from django.db import migrations

WEEKDAYS = [0, 1, 2, 3, 4]  # Monday to Friday

POLICIES = [
    # tier, accept within (hours), calendar, breach action
    ("tier_1", 4, "business_hours", "notify_manager"),
    ("tier_2", 24, "business_hours", "reassign"),
    ("tier_3", 72, "24x7", "recycle"),
]


def create(apps, schema_editor):
    SlaPolicy = apps.get_model("territories", "SlaPolicy")
    for tier, hours, calendar, breach_action in POLICIES:
        SlaPolicy.objects.get_or_create(
            tier=tier,
            defaults={
                "accept_within_hours": hours,
                "calendar": calendar,
                "time_zone": "UTC",
                "working_days": list(WEEKDAYS),
                "start_hour": 9,
                "end_hour": 17,
                "breach_action": breach_action,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("territories", "0003_handoffs")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
