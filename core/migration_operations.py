"""Migration operations for tables that are large in production.

An index added to accounts, contacts, signals or scores with a plain `AddIndex` locks the table against writes while
it builds (minutes on millions of rows): ingestion and rescores stop. `AddIndexConcurrently` builds it with
PostgreSQL's CREATE INDEX CONCURRENTLY instead, and as a plain index elsewhere (SQLite, for development). A migration
that uses it sets `atomic = False`: a concurrent build cannot run inside a transaction. `RemoveIndexConcurrently`
drops one the same way (DROP INDEX waits for, then blocks, every read and write of the table).
tests/test_migrations.py refuses a new plain `AddIndex` on those tables.
"""

from django.contrib.postgres.operations import AddIndexConcurrently as PostgresAddIndexConcurrently
from django.contrib.postgres.operations import RemoveIndexConcurrently as PostgresRemoveIndexConcurrently
from django.db.migrations.operations import AddIndex, RemoveIndex

LARGE_TABLES = {
    ("accounts", "account"),
    ("accounts", "contact"),
    ("accounts", "signal"),
    ("accounts", "opportunity"),
    ("segmentation", "accountscore"),
    ("segmentation", "tierchange"),
    ("segmentation", "mqa"),
    ("handoffs", "handoff"),
    ("insights", "accountpotential"),
}


class AddIndexConcurrently(PostgresAddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain index on other databases."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrently(PostgresRemoveIndexConcurrently):
    """DROP INDEX CONCURRENTLY on PostgreSQL; a plain drop on other databases."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
