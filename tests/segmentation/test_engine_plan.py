"""The full rescore's statement streams (PostgreSQL): signals in account order from their covering index, aggregated
one account at a time and merge-joined to the accounts, with no sort and no hash over the slice. This shape is what
keeps a million-account rescore within its time and memory; the SQL engine's results are tested elsewhere."""

import datetime as dt

import pytest
from django.db import connection, transaction

from accounts.criteria import Criterion
from segmentation.engine import Plan, Selection
from segmentation.engine.sql import _select_sql, _statement_settings
from segmentation.engine.sql_criteria import distinct_values as _distinct_values
from tests.conftest import require_postgres
from tests.factories import AccountFactory, ContactFactory, ScoringModelFactory, SignalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
AS_OF = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def plan_of_a_slice(selection: Selection) -> str:
    """EXPLAIN of the slice's scoring statement, with sorts, hash aggregates and sequential scans priced out: a
    plan that still needs one of them shows it."""
    model = ScoringModelFactory()
    sql, params = _select_sql(Plan.of(model), selection, AS_OF)
    with transaction.atomic(), connection.cursor() as cursor:
        _statement_settings(cursor, selection)
        for setting in ("enable_sort", "enable_hashagg", "enable_seqscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def some_accounts() -> list[int]:
    ids = []
    for n in range(6):
        account = AccountFactory(industry="software" if n % 2 else "retail", employee_count=300 * n)
        contact = ContactFactory(account=account, persona="champion")
        SignalFactory(account=account, kind="meeting", contact=contact, occurred_at=AS_OF - dt.timedelta(days=n))
        SignalFactory(account=account, kind="web_visit", occurred_at=AS_OF - dt.timedelta(days=40 + n))
        ids.append(account.pk)
    return ids


@pytest.mark.parametrize("bounded", [True, False])
def test_a_slice_streams_its_signals_in_account_order(bounded):
    require_postgres()
    ids = some_accounts()
    plan = plan_of_a_slice(Selection(lo=ids[1], hi=ids[4]) if bounded else Selection())

    assert "Index Only Scan using signal_account_time_cover_idx on accounts_signal" in plan, plan
    assert "GroupAggregate" in plan and "HashAggregate" not in plan, plan
    assert "Merge Left Join" in plan, plan  # the accounts and their signal aggregate, side by side
    assert " Sort " not in plan and "Sort Key" not in plan, plan


def test_distinct_values_are_read_in_one_scan_per_attribute_set():
    """The slice's distinct values of every attribute the criteria read, None left out, as Python sees them."""
    require_postgres()
    AccountFactory(industry="software", technologies=["AWS", "HubSpot"], attributes={"segment": "smb", "rank": 3})
    AccountFactory(industry=" Software ", technologies=[], attributes={"segment": ["a", "b"]})
    AccountFactory(industry="retail", technologies=["AWS", "HubSpot"], attributes={})
    criteria = [
        Criterion("industry", "eq", "software"),
        Criterion("technologies", "contains", "AWS"),
        Criterion("segment", "eq", "smb"),
        Criterion("rank", "gte", 2),
        Criterion("employee_count", "gte", 10),  # compared in SQL: no distinct values needed
    ]
    found = _distinct_values(criteria, "TRUE", [])

    assert sorted(found) == ["industry", "rank", "segment", "technologies"]
    assert sorted(found["industry"]) == [(" Software ", " Software "), ("retail", "retail"), ("software", "software")]
    assert sorted(value for _, value in found["technologies"]) == [[], ["AWS", "HubSpot"]]
    assert sorted(str(value) for _, value in found["segment"]) == ["['a', 'b']", "smb"]
    assert [value for _, value in found["rank"]] == [3]
    # The raw form is what SQL compares with: the jsonb text of the stored value.
    assert ('["a", "b"]', ["a", "b"]) in found["segment"]


def account_reads(plan: dict) -> list[tuple[str, int]]:
    """(node type, rows it returned in all) for each node of an EXPLAIN ANALYZE (JSON) plan that reads the accounts."""
    found = []

    def walk(node: dict) -> None:
        if node.get("Relation Name") == "accounts_account":
            found.append((node["Node Type"], node["Actual Rows"] * node["Actual Loops"]))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return found


@pytest.mark.parametrize("shadow", [False, True])
def test_a_slice_stores_its_scores_reading_only_its_own_accounts(shadow):
    """The store statements (the live version's and the one in shadow) read accounts for the scores' territory and
    owner, the events' names, or that the account still exists: each read is of the slice's own accounts, not a hash
    of every account built again for each slice (twice a slice, at a million accounts)."""
    require_postgres()
    from segmentation.engine.shadow import shadow_store_sql
    from segmentation.engine.sql import _store_sql

    ids = some_accounts()
    for n in range(40):  # accounts outside the slice
        AccountFactory(name=f"Other {n}")
    model = ScoringModelFactory(status="draft", in_shadow=True) if shadow else ScoringModelFactory(status="active")
    selection = Selection(lo=ids[1], hi=ids[4])
    sql, params = (shadow_store_sql if shadow else _store_sql)(Plan.of(model), selection, AS_OF)
    with transaction.atomic(), connection.cursor() as cursor:
        _statement_settings(cursor, selection)
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0][0]
        transaction.set_rollback(True)

    reads = account_reads(plan)
    # Live: the scored accounts, the stored scores' territory and owner, the surge events; shadow: the first and
    # the accounts the new rows are checked against.
    assert len(reads) >= (2 if shadow else 3), reads
    assert all(rows <= 3 for _, rows in reads), reads  # the slice holds 3 accounts of 46


def test_a_first_placement_is_written_without_a_foreign_key_check():
    """A first publish writes a score and a placement per account: the database checks no foreign key for either (at
    commit, each check looked the account and the model up and locked the account's row: more than the insert itself
    at a million accounts). Django keeps CASCADE and PROTECT. Run with the constraints checked at once, so that any
    check would show among the statement's triggers."""
    require_postgres()
    from segmentation.engine.sql import _store_sql
    from segmentation.models import TierChange

    ids = some_accounts()
    model = ScoringModelFactory(status="active")
    selection = Selection(lo=ids[0], hi=ids[-1] + 1)
    sql, params = _store_sql(Plan.of(model), selection, AS_OF)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        _statement_settings(cursor, selection)
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0][0]
        placed = TierChange.objects.filter(account_id__in=ids, from_tier="").count()
        transaction.set_rollback(True)

    assert placed == len(ids)  # the statement did place every account of the slice
    checks = [t for t in plan.get("Triggers", []) if t.get("Constraint Name")]
    assert checks == [], checks
