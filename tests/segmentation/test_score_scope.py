"""Each score carries its account's territory and owner (kept by database triggers, migration 0007), so lists of one
territory's or one rep's accounts by tier and score read a range of a score index. Whatever changes an account's
territory or owner, the copy follows, and the lists show exactly what the account's own fields say."""

import pytest
from django.db import connection, transaction
from django.urls import reverse

from accounts.models import Account
from core.pagination import CappedCountPaginator
from segmentation.models import AccountScore
from segmentation.services import model_publish, score_scopes_repair
from segmentation.tasks import rescore_daily_task
from tests.conftest import require_postgres
from tests.factories import AccountFactory, AccountScoreFactory, ScoringModelFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


def copies() -> dict[int, tuple]:
    return {s.account_id: (s.account_territory_id, s.account_owner_id) for s in AccountScore.objects.all()}


def truth() -> dict[int, tuple]:
    return {a.pk: (a.territory_id, a.owner_id) for a in Account.objects.filter(score__isnull=False)}


def test_a_score_carries_its_accounts_territory_and_owner_whatever_writes_them(world):
    model = ScoringModelFactory()
    accounts = [world.north_account, world.south_account, world.unrouted_account, world.owned_by_rep]
    for account in accounts:
        AccountScoreFactory(account=account, model=model)  # an ORM insert
    assert copies() == truth()
    assert copies()[world.north_account.pk] == (world.north.pk, world.north_rep.pk)
    assert copies()[world.unrouted_account.pk] == (None, None)

    world.north_account.territory = world.south  # save()
    world.north_account.owner = world.other_rep
    world.north_account.save()
    assert copies()[world.north_account.pk] == (world.south.pk, world.other_rep.pk)

    Account.objects.filter(pk__in=[a.pk for a in accounts]).update(owner=None)  # one statement, several rows
    assert copies() == truth() and {owner for _, owner in copies().values()} == {None}

    world.unrouted_account.territory = world.north  # bulk_update
    Account.objects.bulk_update([world.unrouted_account], ["territory"])
    with connection.cursor() as cursor:  # plain SQL, as the assignment job writes
        cursor.execute(
            f"UPDATE {Account._meta.db_table} SET owner_id = %s WHERE id = %s", [world.rep.pk, world.owned_by_rep.pk]
        )
    assert copies() == truth()
    assert copies()[world.unrouted_account.pk] == (world.north.pk, None)
    assert copies()[world.owned_by_rep.pk] == (world.north.pk, world.rep.pk)

    Account.objects.filter(pk=world.south_account.pk).update(name="Renamed")  # other fields: the copy stays right
    assert copies() == truth()


def test_scores_written_by_a_publish_carry_their_accounts_territory_and_owner(
    world, django_capture_on_commit_callbacks
):
    # On PostgreSQL the SQL engine inserts and updates scores in one statement; on SQLite, the Python engine.
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=ScoringModelFactory(), user=None)
    assert AccountScore.objects.count() == Account.objects.count() == 5
    assert copies() == truth()
    assert copies()[world.south_account.pk] == (world.south.pk, world.other_rep.pk)


@pytest.mark.postgres
def test_the_insert_trigger_steps_aside_for_the_rescores_own_statement_only(world):
    """The rescore's store statement writes new scores' territory and owner from the accounts it reads, and tells the
    insert trigger so (migration 0016): the trigger skips its second read of every new row against its account. Any
    other insert, even later in the same transaction, is copied by the trigger as before."""
    require_postgres()
    import datetime as dt

    from segmentation.engine import Plan, Selection
    from segmentation.engine.sql import SCOPE_WRITTEN, sql_store

    model = ScoringModelFactory(status="active")
    with transaction.atomic():
        written = sql_store(
            Plan.of(model), Selection(ids=(world.north_account.pk,)), dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        )
        AccountScoreFactory(account=world.south_account, model=model)  # an ORM insert after it
    assert written == 1
    assert copies() == truth()
    assert copies()[world.north_account.pk] == (world.north.pk, world.north_rep.pk)
    assert copies()[world.south_account.pk] == (world.south.pk, world.other_rep.pk)

    # What the trigger does while the statement's setting holds: nothing (the statement wrote the copy itself).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {SCOPE_WRITTEN} = 'on'")
        AccountScoreFactory(account=world.owned_by_rep, model=model)
        assert copies()[world.owned_by_rep.pk] == (None, None)
        transaction.set_rollback(True)


def test_reassignment_moves_an_account_between_the_reps_tier_lists(client, world):
    model = ScoringModelFactory()
    AccountScoreFactory(account=world.north_account, model=model, tier="tier_1", unified=80)
    client.force_login(world.north_rep)

    def listed(user, name: str, **params) -> list[str]:
        client.force_login(user)
        response = client.get(reverse(name), params)
        assert response.status_code == 200
        return [row.record.name for row in response.context["table"].paginated_rows]

    for name in ("account-list", "tier-list"):
        assert listed(world.north_rep, name, tier="tier_1", sort="unified") == ["North account"]
        assert listed(world.sub_rep, name, tier="tier_1", sort="unified") == []

    # It is given to `rep`, who belongs to no territory and sees only what they own.
    Account.objects.filter(pk=world.north_account.pk).update(owner=world.rep)
    for name in ("account-list", "tier-list"):
        assert listed(world.rep, name, tier="tier_1", sort="unified") == ["North account"]
        assert listed(world.north_rep, name, tier="tier_1", sort="unified") == ["North account"]  # still North's

    # Moved to the South: gone from North's lists, in the South manager's.
    Account.objects.filter(pk=world.north_account.pk).update(territory=world.south, owner=world.other_rep)
    for name in ("account-list", "tier-list"):
        assert listed(world.north_rep, name, tier="tier_1", sort="unified") == []
        assert listed(world.manager, name, tier="tier_1") == []
        assert listed(world.other_manager, name, tier="tier_1") == ["North account"]
        assert listed(world.rep, name, tier="tier_1") == []
    # The tier tiles, read from the scores alone, say the same.
    client.force_login(world.other_manager)
    tiles = {t["tier"]: t["count"] for t in client.get(reverse("tier-list")).context["tiles"]}
    assert tiles["tier_1"] == 1
    client.force_login(world.manager)
    tiles = {t["tier"]: t["count"] for t in client.get(reverse("tier-list")).context["tiles"]}
    assert tiles["tier_1"] == 0


def test_a_long_list_counts_up_to_a_cap_and_says_so(client, world, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    model = ScoringModelFactory()
    for i in range(5):
        AccountScoreFactory(account=AccountFactory(name=f"Acc {i}", territory=world.north), model=model)
    client.force_login(world.manager)
    response = client.get(reverse("account-list"))
    assert '<small class="text-muted" id="account-count">(3+)</small>' in response.content.decode()
    response = client.get(reverse("tier-list"))
    assert '<small class="text-muted" id="tier-list-count">(3+)</small>' in response.content.decode()
    assert "More than 3 match: the pages go up to the first 3." in response.content.decode()
    # Below the cap, the exact count, formatted.
    monkeypatch.setattr(CappedCountPaginator, "cap", 10_000)
    response = client.get(reverse("account-list"))
    total = Account.objects.filter(territory__in=[world.north, world.north_east]).count()
    assert f'id="account-count">({total})</small>' in response.content.decode()


def plan(sql: str, params) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_scoped_tier_lists_read_a_range_of_the_scope_indexes(world):
    require_postgres()
    from accounts.selectors import scored_account_list
    from segmentation.selectors import scored_account_list as tier_list_rows

    # Forty territories of 250 scored accounts each, with statistics, as the planner sees a real table.
    territories = [TerritoryFactory(name=f"T{i}") for i in range(40)]
    Account.objects.bulk_create(
        Account(name=f"A{i}", territory=territories[i % 40], owner=world.rep if i % 400 == 0 else None)
        for i in range(10_000)
    )
    model = ScoringModelFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO segmentation_accountscore (account_id, model_id, fit, signal, coverage, unified, tier, "
            "tier_since, flags, matched, excluded, personas, as_of, computed_at) "
            "SELECT id, %s, 50, 50, 0.5, id %% 100, (ARRAY['tier_1','tier_2','tier_3','recycle'])[1 + id %% 4], "
            "now(), '{}', '{}', '{}', '{}', now(), now() FROM accounts_account",
            [model.pk],
        )
        cursor.execute("ANALYZE accounts_account")
        cursor.execute("ANALYZE segmentation_accountscore")

    manager_page = scored_account_list(user=world.manager).filter(score__tier="tier_1").order_by("-score__unified")
    assert "score_territory_tier_id_idx" in plan(*manager_page[:50].query.sql_with_params())
    rep_page = scored_account_list(user=world.rep).filter(score__tier="tier_1").order_by("-score__unified")
    assert "score_owner_tier_id_idx" in plan(*rep_page[:50].query.sql_with_params())
    # The tier list's own order (best tier first, then by score) is an index: a page reads a page of it.
    admin_page = tier_list_rows(user=world.admin)
    assert "score_rank_unified_idx" in plan(*admin_page[:50].query.sql_with_params())
    # A page of one tier best first, as the account list reads its ids (accounts.tables.ScoreIndexPaginator): the
    # index alone (the account id ends it), never the table; for an admin in the index's order, the ties unsorted. (A
    # manager of two territories merges two ranges of the territory index, sorted.)
    from accounts.selectors import scores_in_tier
    from accounts.tables import ONE_TIER_SCORE_KEYS

    def page_plan(user) -> str:
        ids = scores_in_tier(user=user, tier="tier_1").order_by(*ONE_TIER_SCORE_KEYS["-unified"]).values("account_id")
        return plan(*ids[100:150].query.sql_with_params())

    admin_ids = page_plan(world.admin)
    assert "Index Only Scan using score_tier_unified_id_idx" in admin_ids and "Sort" not in admin_ids, admin_ids
    assert "Index Only Scan using score_territory_tier_id_idx" in page_plan(world.manager)
    # A rep's page merges the first rows of two ranges, each read from its index alone: their territory's and the
    # accounts they own (their OR read the table's rows of both, a bitmap heap scan, to sort every one).
    from accounts.selectors import score_ranges_in_tier
    from accounts.tables import ScoreIndexPaginator

    scores = scores_in_tier(user=world.north_rep, tier="tier_1")
    ranges = score_ranges_in_tier(user=world.north_rep, tier="tier_1")
    pages = ScoreIndexPaginator(Account.objects.all(), 50, scores=scores, ranges=ranges, order="-unified")
    rep_ids = plan(*pages._merged_ids(100))
    assert "Index Only Scan using score_territory_tier_id_idx" in rep_ids, rep_ids
    assert "Index Only Scan using score_owner_tier_id_idx" in rep_ids and "Bitmap Heap Scan" not in rep_ids, rep_ids
    assert "Bitmap Heap Scan" in page_plan(world.north_rep)  # the scope's OR, as one set


def test_the_daily_rescore_repairs_a_copy_that_drifted(world):
    model = ScoringModelFactory()
    for account in (world.north_account, world.south_account, world.unrouted_account):
        AccountScoreFactory(account=account, model=model)
    # As when a score is inserted while another transaction moves its account: the copy names the old scope.
    AccountScore.objects.filter(account=world.north_account).update(
        account_territory_id=world.south.pk, account_owner_id=world.other_rep.pk
    )
    AccountScore.objects.filter(account=world.unrouted_account).update(account_territory_id=world.north.pk)
    assert copies() != truth()
    rescore_daily_task()
    assert copies() == truth()
    assert score_scopes_repair() == 0  # nothing left to write
