"""Lists sorted by score read the score index (PostgreSQL): a page of a million accounts sorted by score is one walk
down the index, not a sort of every account; and a big rescore leaves the planner fresh statistics of the scores."""

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django_tables2 import RequestConfig

from accounts.tables import AccountTable
from segmentation.services import model_publish
from segmentation.services import rescore as rescore_service
from tests.conftest import require_postgres
from tests.factories import ScoringModelFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def page_plan(world, sort: str) -> str:
    """EXPLAIN of the account list's page query, as the admin sorts it, with sequential scans priced out."""
    from accounts.selectors import account_list

    request = RequestFactory().get("/accounts/", {"sort": sort})
    queryset = account_list(user=world.admin).select_related("owner", "territory", "score", "potential")
    table = AccountTable(queryset)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    sql, params = table.data.data[:50].query.sql_with_params()  # the page: the ordered accounts, cut to 50
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("sort", ["unified", "-unified"])
def test_the_account_list_sorted_by_score_walks_the_score_index(world, sort):
    require_postgres()
    model_publish(model=ScoringModelFactory(), user=None)
    plan = page_plan(world, sort)
    assert "score_unified_idx" in plan, plan


def test_a_big_rescore_analyzes_the_score_table(world, monkeypatch):
    require_postgres()
    monkeypatch.setattr(rescore_service, "ANALYZE_AFTER", 1)

    def analyzed() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'segmentation_accountscore'")
            return cursor.fetchone()[0]

    before = analyzed()
    model_publish(model=ScoringModelFactory(), user=None)
    assert analyzed() > before
