"""Each score carries its account's territory and owner, kept by triggers, so a scoped list filtered by tier and sorted
by score reads one index range of the score table (see AccountScore.account_territory_id).

PostgreSQL: statement-level triggers with transition tables, one set-based UPDATE per statement however many rows it
writes (a routing job moving 100,000 accounts costs one join, not 100,000 trigger calls), and rows already right are
not rewritten. SQLite (development): row-level triggers. The fields are filled for existing scores here; the indexes are
built CONCURRENTLY so score writes go on meanwhile.
"""

from django.db import migrations, models

from core.migration_operations import AddIndexConcurrently

POSTGRESQL = """
CREATE OR REPLACE FUNCTION segmentation_score_scope_from_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE segmentation_accountscore s
     SET account_territory_id = n.territory_id, account_owner_id = n.owner_id
    FROM changed_accounts n
   WHERE s.account_id = n.id
     AND (s.account_territory_id, s.account_owner_id) IS DISTINCT FROM (n.territory_id, n.owner_id);
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION segmentation_score_scope_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE segmentation_accountscore s
     SET account_territory_id = a.territory_id, account_owner_id = a.owner_id
    FROM new_scores n JOIN accounts_account a ON a.id = n.account_id
   WHERE s.account_id = n.account_id
     AND (s.account_territory_id, s.account_owner_id) IS DISTINCT FROM (a.territory_id, a.owner_id);
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS segmentation_score_scope_account_update ON accounts_account;
CREATE TRIGGER segmentation_score_scope_account_update AFTER UPDATE ON accounts_account
  REFERENCING NEW TABLE AS changed_accounts FOR EACH STATEMENT
  EXECUTE FUNCTION segmentation_score_scope_from_accounts();
DROP TRIGGER IF EXISTS segmentation_score_scope_score_insert ON segmentation_accountscore;
CREATE TRIGGER segmentation_score_scope_score_insert AFTER INSERT ON segmentation_accountscore
  REFERENCING NEW TABLE AS new_scores FOR EACH STATEMENT
  EXECUTE FUNCTION segmentation_score_scope_on_insert();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER IF EXISTS segmentation_score_scope_account_update ON accounts_account;
DROP TRIGGER IF EXISTS segmentation_score_scope_score_insert ON segmentation_accountscore;
DROP FUNCTION IF EXISTS segmentation_score_scope_from_accounts();
DROP FUNCTION IF EXISTS segmentation_score_scope_on_insert();
"""
SQLITE = [
    "DROP TRIGGER IF EXISTS segmentation_score_scope_account_update",
    """CREATE TRIGGER segmentation_score_scope_account_update AFTER UPDATE OF territory_id, owner_id ON accounts_account
       BEGIN
         UPDATE segmentation_accountscore SET account_territory_id = NEW.territory_id, account_owner_id = NEW.owner_id
          WHERE account_id = NEW.id;
       END""",
    "DROP TRIGGER IF EXISTS segmentation_score_scope_score_insert",
    """CREATE TRIGGER segmentation_score_scope_score_insert AFTER INSERT ON segmentation_accountscore
       BEGIN
         UPDATE segmentation_accountscore
            SET account_territory_id = (SELECT territory_id FROM accounts_account WHERE id = NEW.account_id),
                account_owner_id = (SELECT owner_id FROM accounts_account WHERE id = NEW.account_id)
          WHERE account_id = NEW.account_id;
       END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS segmentation_score_scope_account_update",
    "DROP TRIGGER IF EXISTS segmentation_score_scope_score_insert",
]
FILL = """
UPDATE segmentation_accountscore AS s SET account_territory_id = a.territory_id, account_owner_id = a.owner_id
  FROM accounts_account AS a WHERE a.id = s.account_id
"""
FILL_SQLITE = """
UPDATE segmentation_accountscore
   SET account_territory_id = (SELECT territory_id FROM accounts_account a WHERE a.id = account_id),
       account_owner_id = (SELECT owner_id FROM accounts_account a WHERE a.id = account_id)
"""


def install(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    with schema_editor.connection.cursor() as cursor:
        for statement in [POSTGRESQL] if postgresql else SQLITE:
            cursor.execute(statement)
        cursor.execute(FILL if postgresql else FILL_SQLITE)


def uninstall(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    with schema_editor.connection.cursor() as cursor:
        for statement in [POSTGRESQL_REVERSE] if postgresql else SQLITE_REVERSE:
            cursor.execute(statement)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("segmentation", "0006_score_indexes_restored"), ("accounts", "0006_owner_change_queue")]

    operations = [
        migrations.AddField(
            model_name="accountscore",
            name="account_territory_id",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="accountscore",
            name="account_owner_id",
            field=models.IntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(install, uninstall),
        AddIndexConcurrently(
            model_name="accountscore",
            index=models.Index(fields=["account_territory_id", "tier", "-unified"], name="score_territory_tier_idx"),
        ),
        AddIndexConcurrently(
            model_name="accountscore",
            index=models.Index(fields=["account_owner_id", "tier", "-unified"], name="score_owner_tier_idx"),
        ),
    ]
