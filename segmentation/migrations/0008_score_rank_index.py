"""The tier lists' order (best tier first, then by score) as an index, built CONCURRENTLY so score writes go on."""

from django.db import migrations, models

from core.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("segmentation", "0007_score_scope_copy")]

    operations = [
        AddIndexConcurrently(
            model_name="accountscore",
            index=models.Index(
                models.Case(
                    models.When(then=models.Value(0), tier="tier_1"),
                    models.When(then=models.Value(1), tier="tier_2"),
                    models.When(then=models.Value(2), tier="tier_3"),
                    models.When(then=models.Value(3), tier="recycle"),
                    models.When(then=models.Value(4), tier="suppress"),
                    default=models.Value(5),
                    output_field=models.IntegerField(),
                ),
                models.OrderBy(models.F("unified"), descending=True),
                name="score_rank_unified_idx",
            ),
        ),
    ]
