"""SLA policies name a country (and subdivision) whose public holidays, and their own closed dates, a business-hours
clock does not count."""

import core.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("handoffs", "0002_breach_blame_and_audience"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalslapolicy",
            name="closed_dates",
            field=core.fields.ListField(
                base="text",
                blank=True,
                db_default=models.Value([], output_field=core.fields.ListField(base="text")),
                help_text="Dates (YYYY-MM-DD) the team is closed.",
            ),
        ),
        migrations.AddField(
            model_name="historicalslapolicy",
            name="holiday_country",
            field=models.CharField(
                blank=True,
                db_default="",
                help_text="Public holidays of this country (ISO code, e.g. DE) do not count.",
                max_length=2,
            ),
        ),
        migrations.AddField(
            model_name="historicalslapolicy",
            name="holiday_subdivision",
            field=models.CharField(
                blank=True,
                db_default="",
                help_text="Optional: the state or region whose holidays apply, e.g. BE (Berlin).",
                max_length=40,
            ),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="closed_dates",
            field=core.fields.ListField(
                base="text",
                blank=True,
                db_default=models.Value([], output_field=core.fields.ListField(base="text")),
                help_text="Dates (YYYY-MM-DD) the team is closed.",
            ),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="holiday_country",
            field=models.CharField(
                blank=True,
                db_default="",
                help_text="Public holidays of this country (ISO code, e.g. DE) do not count.",
                max_length=2,
            ),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="holiday_subdivision",
            field=models.CharField(
                blank=True,
                db_default="",
                help_text="Optional: the state or region whose holidays apply, e.g. BE (Berlin).",
                max_length=40,
            ),
        ),
    ]
