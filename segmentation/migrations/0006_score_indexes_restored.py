"""Rescores no longer drop the score indexes. A database upgraded while a rescore of the previous release had them
dropped (a stopped job) gets them back here, built CONCURRENTLY so score writes go on meanwhile."""

from django.db import migrations

INDEXES = {
    "score_tier_unified_idx": "tier, unified DESC",
    "score_unified_idx": "unified DESC",
}


def restore(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, columns in INDEXES.items():
            cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON segmentation_accountscore ({columns})")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("segmentation", "0005_models_moved_out")]

    operations = [migrations.RunPython(restore, migrations.RunPython.noop, elidable=True)]
