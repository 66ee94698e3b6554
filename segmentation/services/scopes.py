"""The scores' copy of their account's territory and owner (AccountScore.account_territory_id, kept by triggers:
migration 0007) set right wherever it drifted. A score inserted while another transaction moves its account can
copy the territory the account is leaving (the insert reads the account before the move commits; the move's trigger
cannot see the score yet): until the account changes again, the score would show in its old scope's tier-filtered
lists. The daily rescore repairs such rows first; rows already right are not written."""

from django.db import connection

from accounts.models import Account

from ..models import AccountScore

SCORES, ACCOUNTS = AccountScore._meta.db_table, Account._meta.db_table

POSTGRESQL = f"""
UPDATE {SCORES} AS s SET account_territory_id = a.territory_id, account_owner_id = a.owner_id
  FROM {ACCOUNTS} AS a
 WHERE a.id = s.account_id
   AND (s.account_territory_id, s.account_owner_id) IS DISTINCT FROM (a.territory_id, a.owner_id)
"""  # noqa: S608  # nosec B608  # table names are the models'; no input in the SQL
SQLITE = f"""
UPDATE {SCORES}
   SET account_territory_id = (SELECT territory_id FROM {ACCOUNTS} a WHERE a.id = account_id),
       account_owner_id = (SELECT owner_id FROM {ACCOUNTS} a WHERE a.id = account_id)
 WHERE account_id IN (
   SELECT s.account_id FROM {SCORES} s JOIN {ACCOUNTS} a ON a.id = s.account_id
    WHERE s.account_territory_id IS NOT a.territory_id OR s.account_owner_id IS NOT a.owner_id)
"""  # noqa: S608  # nosec B608  # table names are the models'; no input in the SQL


def score_scopes_repair() -> int:
    """Set every score's copy of its account's territory and owner where it differs; returns the rows written."""
    with connection.cursor() as cursor:
        cursor.execute(POSTGRESQL if connection.vendor == "postgresql" else SQLITE)
        return cursor.rowcount
