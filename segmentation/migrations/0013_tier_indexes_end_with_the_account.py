"""The tier indexes (all accounts, per territory, per owner) end with the account id, so a page of one tier in the
list's order (best score first, then the account id) is read from the index alone, in order: no visit of the table
per row, no sort of the ties. Each new index is built CONCURRENTLY before the one it replaces is dropped, so score
writes go on and every list keeps an index meanwhile."""

from django.db import migrations, models

from core.migration_operations import AddIndexConcurrently, RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE and DROP INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("segmentation", "0012_rollups")]

    operations = [
        AddIndexConcurrently(
            model_name="accountscore",
            index=models.Index(fields=["tier", "-unified", "account"], name="score_tier_unified_id_idx"),
        ),
        AddIndexConcurrently(
            model_name="accountscore",
            index=models.Index(
                fields=["account_territory_id", "tier", "-unified", "account"], name="score_territory_tier_id_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="accountscore",
            index=models.Index(
                fields=["account_owner_id", "tier", "-unified", "account"], name="score_owner_tier_id_idx"
            ),
        ),
        RemoveIndexConcurrently(model_name="accountscore", name="score_tier_unified_idx"),
        RemoveIndexConcurrently(model_name="accountscore", name="score_territory_tier_idx"),
        RemoveIndexConcurrently(model_name="accountscore", name="score_owner_tier_idx"),
    ]
