"""The scores' copy of their account's territory and owner (0007) is written by the rescore's own insert, from the
accounts it reads in the same statement: the insert trigger then only read every new row against its account again to
find nothing to change (0.4 s per slice of 145,000 accounts). The rescore says so for its statement
(`revops.score_scope_written`, set locally: segmentation/engine/sql.py), and the trigger steps aside for it. Any other
insert (the Python engine, the admin, a test) is still copied by the trigger. PostgreSQL only: SQLite's row triggers
are unchanged."""

from django.db import migrations

# The copy as migration 0007 made it; written out here, as a migration keeps what it installs.
COPY = """
  UPDATE segmentation_accountscore s
     SET account_territory_id = a.territory_id, account_owner_id = a.owner_id
    FROM new_scores n JOIN accounts_account a ON a.id = n.account_id
   WHERE s.account_id = n.account_id
     AND (s.account_territory_id, s.account_owner_id) IS DISTINCT FROM (a.territory_id, a.owner_id);
"""
STEP_ASIDE = """
  IF current_setting('revops.score_scope_written', true) = 'on' THEN
    RETURN NULL;
  END IF;
"""


def function(body: str) -> str:
    return (
        "CREATE OR REPLACE FUNCTION segmentation_score_scope_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN{body}  RETURN NULL;\nEND $$;"
    )


CHECKED = function(STEP_ASIDE + COPY)
ALWAYS = function(COPY)


def run(sql: str):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("segmentation", "0015_tier_changes_without_database_foreign_keys")]

    operations = [migrations.RunPython(run(CHECKED), run(ALWAYS))]
