"""A database that ran the demo on the previous main (before the apps were split by domain) migrates to this one with
nothing lost: every table keeps its rows, and the moved models (handoffs and SLA policies from territories; spend
potential and KPI snapshots from segmentation to insights; the rescore queue to accounts) read the same rows through
their new apps.

The fixtures were made with the previous main (commit 205d048): `migrate`, then `load_demo`, then three accounts put
on the rescore queue, dumped (`pg_dump --no-owner`, the SQLite file), gzipped.
"""

import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from .conftest import require_postgres

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# What the new code reads through the moved models (run in a process of its own, on the migrated database).
READ_BACK = """
import json
import django
django.setup()
from django.contrib.contenttypes.models import ContentType
from django.db.migrations.executor import MigrationExecutor
from django.db import connection
from accounts.models import PendingRescore
from core.models import ApiToken
from handoffs.models import Handoff, SlaPolicy
from insights.models import AccountPotential, KpiSnapshot
from segmentation.models import AccountScore

executor = MigrationExecutor(connection)
print(json.dumps({
    "unapplied": [str(m) for m, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())],
    "handoffs": sorted([h.pk, h.owner_id, h.status, h.tier, h.accept_due_at.isoformat() if h.accept_due_at else None]
                       for h in Handoff.objects.all()),
    "policies": sorted([p.tier, p.accept_within_hours, p.calendar, p.breach_action] for p in SlaPolicy.objects.all()),
    "policy_history": SlaPolicy.history.count(),
    "potential": [AccountPotential.objects.count(), round(sum(p.expected_value for p in AccountPotential.objects.all()), 2)],
    "snapshots": KpiSnapshot.objects.count(),
    "tokens": sorted([t.user_id, t.digest, t.prefix, t.expires_at is not None] for t in ApiToken.objects.all()),
    "queued": sorted(PendingRescore.objects.values_list("account_id", flat=True)),
    "score_copies": [AccountScore.objects.count(), sum(
        (s.account_territory_id, s.account_owner_id) != (s.account.territory_id, s.account.owner_id)
        for s in AccountScore.objects.select_related("account"))],
    "content_types": sorted([c.app_label, c.model, c.pk] for c in ContentType.objects.filter(
        model__in=["handoff", "slapolicy", "historicalslapolicy", "accountpotential", "kpisnapshot", "pendingrescore"])),
}))
"""


def _manage(database_url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    run = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


def _check(before: dict, database_url: str, after_counts) -> None:
    _manage(database_url, "manage.py", "migrate", "--no-input", "-v0")
    found = json.loads(_manage(database_url, "-c", READ_BACK).strip().splitlines()[-1])
    assert found["unapplied"] == []
    after = after_counts()
    # Every table the previous main had keeps its rows; only new models add content types (and their four
    # permissions each): the routing, capacity and owner-change queues, API tokens, single sign-on groups, shadow
    # scores, rep quotas (and their history), planning scenarios (their territories, members and assignments),
    # lookalikes (their queue, reasons and refreshes), topic surges, duplicate candidates and account merges (and
    # their history), domain events, CRM connections and their links, webhook endpoints, deliveries and their
    # cursor, stored assignment previews and their moves, and chat alerts (channels, preferences, alerts and their
    # cursor).
    grown = {"django_content_type": 31, "auth_permission": 124}
    lost = {
        t: (n, after.get(t))
        for t, n in before["counts"].items()
        if t != OLD_TOKENS and after.get(t) != n + grown.get(t, 0)
    }
    assert lost == {}, lost
    # The plain-text API keys are gone; each is now a digest of the same key, so clients keep working.
    assert OLD_TOKENS not in after
    assert found["tokens"] == [[user, hashlib.sha256(key.encode()).hexdigest(), key[:6], True] for key, user in TOKENS]
    assert found["handoffs"] == before["handoffs"] and len(found["handoffs"]) == 11
    assert found["policies"] == before["policies"] and len(found["policies"]) == 3
    assert found["policy_history"] == before["policy_history"] == 3
    assert found["potential"] == before["potential"] and found["potential"][0] == 85
    assert found["snapshots"] == before["snapshots"] == 242
    assert found["queued"] == before["queued"] and len(found["queued"]) == 3
    # Every score carries its account's territory and owner.
    scores, wrong = found["score_copies"]
    assert scores == 85 and wrong == 0, found["score_copies"]
    # Each moved model keeps its content type (its permissions and admin log entries), now under its new app.
    moved = {(app, model): pk for app, model, pk in found["content_types"]}
    for (old_app, model), pk in before["content_types"].items():
        new_app = {"handoff": "handoffs", "slapolicy": "handoffs", "historicalslapolicy": "handoffs",
                   "accountpotential": "insights", "kpisnapshot": "insights", "pendingrescore": "accounts"}[model]  # fmt: skip
        assert moved.get((new_app, model)) == pk, (old_app, model)
        assert (old_app, model) not in moved


OLD_TOKENS = "authtoken_token"
TOKENS = [("0f3c9a7d1e5b2c4a6d8e0f1a3b5c7d9e1f2a4b6c", 1), ("9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b", 2)]


def _add_old_tokens(execute) -> None:
    """Two users had API tokens, kept in plain text by the previous main."""
    for key, user in TOKENS:
        execute(f"INSERT INTO {OLD_TOKENS} (key, created, user_id) VALUES ('{key}', CURRENT_TIMESTAMP, {user})")


def _before(query) -> dict:
    """The previous main's rows, read with plain SQL from its own tables."""
    return {
        "handoffs": sorted(
            [pk, owner, status, tier, due]
            for pk, owner, status, tier, due in query(
                "SELECT id, owner_id, status, tier, accept_due_at FROM territories_handoff"
            )
        ),
        "policies": sorted(
            list(row)
            for row in query("SELECT tier, accept_within_hours, calendar, breach_action FROM territories_slapolicy")
        ),
        "policy_history": query("SELECT count(*) FROM territories_historicalslapolicy")[0][0],
        "potential": [
            query("SELECT count(*) FROM segmentation_accountpotential")[0][0],
            round(query("SELECT sum(expected_value) FROM segmentation_accountpotential")[0][0], 2),
        ],
        "snapshots": query("SELECT count(*) FROM segmentation_kpisnapshot")[0][0],
        "queued": sorted(row[0] for row in query("SELECT account_id FROM segmentation_pendingrescore")),
        "content_types": {
            (app, model): pk
            for pk, app, model in query(
                "SELECT id, app_label, model FROM django_content_type WHERE model IN ('handoff', 'slapolicy', "
                "'historicalslapolicy', 'accountpotential', 'kpisnapshot', 'pendingrescore')"
            )
        },
    }


def test_the_previous_mains_demo_database_migrates_with_nothing_lost_on_sqlite(tmp_path):
    path = tmp_path / "previous.sqlite3"
    with gzip.open(FIXTURES / "previous_main_demo.sqlite3.gz") as source, path.open("wb") as target:
        shutil.copyfileobj(source, target)

    def query(sql: str) -> list[tuple]:
        with sqlite3.connect(path) as db:
            return db.execute(sql).fetchall()

    _add_old_tokens(query)

    def counts() -> dict[str, int]:
        tables = [
            r[0] for r in query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ]
        return {t: query(f'SELECT count(*) FROM "{t}"')[0][0] for t in tables if t != "django_migrations"}

    before = {**_before(query), "counts": counts()}
    before["handoffs"] = [[pk, owner, status, tier, _iso(due)] for pk, owner, status, tier, due in before["handoffs"]]
    _check(before, f"sqlite:///{path}", counts)


@pytest.mark.postgres
def test_the_previous_mains_demo_database_migrates_with_nothing_lost_on_postgresql():
    require_postgres()
    db = connection.settings_dict
    name = f"revops_previous_{uuid.uuid4().hex[:8]}"
    server = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    try:
        dump = gzip.decompress((FIXTURES / "previous_main_demo.pgsql.gz").read_bytes())
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=dump, check=True, capture_output=True, timeout=300
        )

        def query(sql: str) -> list[tuple]:
            with psycopg.connect(url) as conn:
                return conn.execute(sql).fetchall()

        def counts() -> dict[str, int]:
            tables = [r[0] for r in query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            return {t: query(f'SELECT count(*) FROM "{t}"')[0][0] for t in tables if t != "django_migrations"}

        # A rescore of the previous main stopped while it had the score indexes dropped: the upgrade builds them.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP INDEX score_unified_idx, score_tier_unified_idx")
            _add_old_tokens(conn.execute)
        before = {**_before(query), "counts": counts()}
        before["handoffs"] = [
            [pk, owner, status, tier, due.isoformat() if due else None]
            for pk, owner, status, tier, due in before["handoffs"]
        ]
        _check(before, url, counts)
        indexes = {
            r[0] for r in query("SELECT indexname FROM pg_indexes WHERE tablename = 'segmentation_accountscore'")
        }
        assert {"score_unified_idx", "score_tier_unified_id_idx"} <= indexes
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _iso(value: str | None) -> str | None:
    """SQLite keeps datetimes as text ('2026-12-04 18:23:00.123456'); Django reads them back as aware UTC."""
    if value is None:
        return None
    import datetime as dt

    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC).isoformat()


# Indexes on these tables were added while the tables were new (empty on every install); any later one must be built
# concurrently (core/migration_operations.py).
INDEXES_ADDED_ON_NEW_TABLES = {("accounts", "0002_initial"), ("accounts", "0003_signal_covering_index"),
                               ("segmentation", "0001_initial")}  # fmt: skip


def test_a_new_index_on_a_large_table_is_built_concurrently():
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import AddIndex

    from core.migration_operations import LARGE_TABLES, AddIndexConcurrently

    loader = MigrationLoader(None, ignore_no_migrations=True)
    plain = []
    for (app, name), migration in loader.disk_migrations.items():
        for operation in migration.operations:
            concurrent = isinstance(operation, AddIndexConcurrently)
            if isinstance(operation, AddIndex) and (app, operation.model_name.lower()) in LARGE_TABLES:
                if concurrent:
                    assert not migration.atomic, f"{app}.{name}: a concurrent index needs `atomic = False`"
                elif (app, name) not in INDEXES_ADDED_ON_NEW_TABLES:
                    plain.append(f"{app}.{name}: {operation.index.name}")
    assert plain == [], f"use core.migration_operations.AddIndexConcurrently: {plain}"


@pytest.mark.django_db(transaction=True)
def test_the_concurrent_index_operation_builds_and_removes_its_index():
    from django.apps import apps as global_apps
    from django.db import models
    from django.db.migrations.state import ProjectState

    from core.migration_operations import AddIndexConcurrently

    operation = AddIndexConcurrently("signal", models.Index(fields=["kind", "occurred_at"], name="signal_probe_idx"))
    before = ProjectState.from_apps(global_apps)
    after = before.clone()
    operation.state_forwards("accounts", after)

    def names() -> set[str]:
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, "accounts_signal")
        return {name for name, c in constraints.items() if c["index"]}

    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("accounts", editor, before, after)
    assert "signal_probe_idx" in names()
    with connection.schema_editor(atomic=False) as editor:
        operation.database_backwards("accounts", editor, after, before)
    assert "signal_probe_idx" not in names()
