"""The operating matrix's plays, one per tier: what a tier changes in what the team does."""

from django.db import migrations

PLAYS = [
    (
        "tier_1",
        "Focus: 1:1 ABM",
        "one_to_one",
        "Sales + ABM",
        "Pipeline created, win rate, ACV",
        "1:1 ABM plays, executive alignment and high-touch enablement for high-fit accounts with strong signals "
        "(or a validated surge) and buying-group reach.",
    ),
    (
        "tier_2",
        "Growth: 1:few ABM",
        "one_to_few",
        "Sales development + Marketing",
        "Meetings set, pipeline velocity",
        "1:few ABM, coordinated outbound and nurture acceleration for high-fit accounts with moderate signals or "
        "partial buying-group coverage.",
    ),
    (
        "tier_3",
        "Scaled",
        "scaled_nurture",
        "Marketing Ops",
        "MQL to SAL, engagement lift",
        "Scaled nurture, lightweight outreach and self-serve conversion for moderate-fit accounts with early signals.",
    ),
    (
        "recycle",
        "Recycle",
        "none",
        "Marketing Ops",
        "Re-qualification rate",
        "No sales motion: the account stays in marketing programmes until its scores qualify it for a tier.",
    ),
]


def create(apps, schema_editor):
    Play = apps.get_model("segmentation", "Play")
    for tier, name, motion, owner, kpi, description in PLAYS:
        Play.objects.get_or_create(
            tier=tier,
            defaults={
                "name": name,
                "motion": motion,
                "owner_role": owner,
                "primary_kpi": kpi,
                "description": description,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("segmentation", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
