"""Assignment streams a chunk of accounts at a time: whatever the chunk size, the same decisions (the rotation, the
capacities and the counts carry over from one chunk to the next), and the stored preview pages through them all."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.paginator import Paginator
from django.db import transaction

from accounts.models import Account
from territories.models import AssignmentPreview, Membership, OwnershipChange, PlannedMove, Territory
from territories.services import (
    PlannedMoves,
    assignment_apply,
    assignment_plan,
    assignment_preview_compute,
    assignment_preview_latest,
)

from ..conftest import require_postgres
from ..factories import AccountFactory, MembershipFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 5)


@pytest.fixture
def world():
    admin = UserFactory(username="boss", role="admin")
    france = TerritoryFactory(name="France", criteria=[{"attribute": "country", "operator": "eq", "value": "France"}])
    germany = TerritoryFactory(
        name="Germany", criteria=[{"attribute": "country", "operator": "eq", "value": "Germany"}],
        strategy="load_balanced",
    )  # fmt: skip
    for i, weight in enumerate((1, 2, 3)):
        MembershipFactory(user=UserFactory(username=f"fr{i}", role="rep"), territory=france, weight=weight)
    MembershipFactory(user=UserFactory(username="fr-away", role="rep"), territory=france,
                      away_from=TODAY, away_until=TODAY + dt.timedelta(days=3))  # fmt: skip
    for i, cap in enumerate((3, 5, None)):
        MembershipFactory(user=UserFactory(username=f"de{i}", role="rep"), territory=germany, max_accounts=cap)
    manager = UserFactory(username="frm", role="manager")
    MembershipFactory(user=manager, territory=france, role="manager")
    countries = ["France", "Germany", "France", "Peru", "Germany", "France", "Germany"]
    accounts = [AccountFactory(country=countries[i % len(countries)]) for i in range(40)]
    kept = accounts[0]
    kept.owner, kept.territory = Membership.objects.get(user__username="fr2").user, france
    kept.save()
    return {"admin": admin, "manager": manager, "accounts": accounts}


def plan_of(user, chunk_size, **kwargs):
    moves = []
    plan = assignment_plan(user=user, today=TODAY, on_moves=moves.extend, chunk_size=chunk_size, **kwargs)
    as_tuples = [(m.account_id, m.from_owner_id, m.to_owner_id, m.to_territory_id, m.rule) for m in moves]
    summary = (plan.considered, plan.move_count, plan.unassigned, plan.outside_scope)
    return summary, as_tuples, plan.rep_counts(), plan.territory_counts()


@pytest.mark.parametrize("chunk_size", [1, 3, 7])
def test_a_plan_in_small_chunks_equals_the_plan_in_one_chunk(world, chunk_size):
    whole = plan_of(world["admin"], 10_000)
    assert whole[0] == (40, 33, 6, 0)  # one kept; six in Peru, in no territory, unassigned
    assert plan_of(world["admin"], chunk_size) == whole
    assert plan_of(world["manager"], chunk_size) == plan_of(world["manager"], 10_000)
    some = [a.pk for a in world["accounts"][::3]]
    assert plan_of(world["admin"], chunk_size, account_ids=some) == plan_of(world["admin"], 10_000, account_ids=some)


class Rollback(Exception):
    pass


def applied_with(chunk_size):
    """What an apply in chunks of `chunk_size` leaves behind (rolled back afterwards)."""
    found = {}
    try:
        with transaction.atomic():
            plan, result = assignment_apply(user=None, today=TODAY, chunk_size=chunk_size)
            found["result"] = (plan.considered, plan.move_count, result.moved, result.skipped)
            found["accounts"] = sorted(Account.objects.values_list("id", "owner_id", "territory_id"))
            found["log"] = sorted(OwnershipChange.objects.values_list("account_id", "to_owner_id", "rule"))
            found["rotation"] = sorted(
                Membership.objects.values_list("user__username", "rotation_credit", "last_assigned_at")
            )
            found["last_served"] = sorted(Territory.objects.values_list("name", "rotation_last_user__username"))
            raise Rollback
    except Rollback:
        pass
    return found


def test_an_apply_in_small_chunks_leaves_what_one_chunk_leaves(world):
    whole = applied_with(10_000)
    assert whole["result"] == (40, 33, 33, 0)
    assert len(whole["log"]) == 33
    assert any(credit != 0 for _, credit, _ in whole["rotation"])  # the weighted rotation's credits were kept
    for chunk_size in (1, 4):
        chunked = applied_with(chunk_size)
        assert chunked["accounts"] == whole["accounts"]
        assert chunked["log"] == whole["log"]
        assert chunked["result"] == whole["result"]
        assert chunked["last_served"] == whole["last_served"]
        assert [(u, round(c, 9)) for u, c, _ in chunked["rotation"]] == [
            (u, round(c, 9)) for u, c, _ in whole["rotation"]
        ]
        assert [u for u, _, at in chunked["rotation"] if at] == [u for u, _, at in whole["rotation"] if at]


def test_the_stored_preview_holds_every_move_in_order_and_pages_through_them(world):
    _, moves, rep_counts, territory_counts = plan_of(world["admin"], 10_000)
    preview = AssignmentPreview.objects.create(created_by=world["admin"])
    older = AssignmentPreview.objects.create(created_by=world["admin"], status=AssignmentPreview.Status.READY)
    PlannedMove.objects.create(preview=older, position=0, account_id=1, account_name="old", rule="old")
    preview = assignment_preview_compute(preview=preview, chunk_size=3, today=TODAY)
    assert (preview.status, preview.considered, preview.move_count, preview.unassigned) == ("ready", 40, 33, 6)
    stored = list(PlannedMove.objects.filter(preview=preview).order_by("position"))
    assert [m.position for m in stored] == list(range(33))
    assert [(m.account_id, m.from_owner_id, m.to_owner_id, m.to_territory_id, m.rule) for m in stored] == moves
    assert preview.rep_counts == [{k: r[k] for k in ("user_id", "name", "before", "after")} for r in rep_counts]
    assert preview.territory_counts == territory_counts
    assert {t["name"]: (t["before"], t["after"]) for t in territory_counts} == {
        "France": (1, 17), "Germany": (0, 17), "No territory": (39, 6),
    }  # fmt: skip
    assert not AssignmentPreview.objects.filter(pk=older.pk).exists()  # a user keeps their latest preview only
    assert not PlannedMove.objects.filter(preview_id=older.pk).exists()
    assert assignment_preview_latest(user=world["admin"]) == preview

    paginator = Paginator(PlannedMoves(preview), 10)
    assert (paginator.count, paginator.num_pages) == (33, 4)
    pages = [m.account_id for n in paginator.page_range for m in paginator.page(n).object_list]
    assert pages == [m[0] for m in moves]
    assert [m.position for m in paginator.page(4).object_list] == list(range(30, 33))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_each_chunk_is_written_beside_the_planning_of_the_next(world, monkeypatch):
    require_postgres()
    from territories.services import assignment as service

    one_after_the_other = applied_with(3)  # in a transaction: chunk after chunk on the one connection
    writers = []

    class Spy(service._ChunkWriter):
        def __init__(self, apply, **kwargs):
            writers.append(self)
            super().__init__(apply, **kwargs)

    monkeypatch.setattr(service, "_ChunkWriter", Spy)
    plan, result = assignment_apply(user=None, today=TODAY, chunk_size=3)
    assert len(writers) == 1 and len(writers[0].threads) == settings.ASSIGNMENT_WRITERS == 2
    assert not any(thread.is_alive() for thread in writers[0].threads)
    assert (plan.considered, plan.move_count, result.moved, result.skipped) == one_after_the_other["result"]
    assert sorted(Account.objects.values_list("id", "owner_id", "territory_id")) == one_after_the_other["accounts"]
    logged = sorted(OwnershipChange.objects.values_list("account_id", "to_owner_id", "rule"))
    assert logged == one_after_the_other["log"]
    assert (
        sorted(Territory.objects.values_list("name", "rotation_last_user__username"))
        == (one_after_the_other["last_served"])
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("writers", [1, 2])
def test_a_chunk_that_fails_to_be_written_stops_the_run_and_keeps_the_chunks_before_it(
    world, monkeypatch, settings, writers
):
    require_postgres()
    from territories.services import assignment as service

    settings.ASSIGNMENT_WRITERS = writers
    real, calls, failed = service._move_accounts, [], []

    def fails_the_third(chunk):
        calls.append(len(chunk))
        if len(calls) == 3:
            failed.extend(m.account_id for m in chunk)
            raise RuntimeError("the database went away")
        return real(chunk)

    monkeypatch.setattr(service, "_move_accounts", fails_the_third)
    with pytest.raises(RuntimeError, match="went away"):
        assignment_apply(user=None, today=TODAY, chunk_size=3)
    logged = set(OwnershipChange.objects.values_list("account_id", flat=True))
    owned = set(
        Account.objects.filter(owner__isnull=False).exclude(pk=world["accounts"][0].pk).values_list("pk", flat=True)
    )
    assert logged == owned and not logged & set(failed)  # every move made is logged; the failed chunk moved nothing
    if writers == 1:
        assert len(logged) == sum(calls[:2]) > 0  # the first two chunks were applied; nothing after the failure
    else:
        # Another writer may have taken one chunk more while the third failed, never more than one per writer.
        assert sum(calls[:2]) <= len(logged) <= sum(calls[:2]) + 3 * (writers - 1)


def test_a_run_reads_the_fields_and_attributes_its_rules_name(world):
    from territories.services.assignment import _new_plan, routing_columns

    columns = routing_columns(_new_plan(TODAY).router)
    assert "country" in columns and "attributes" not in columns and "technologies" not in columns
    stack = TerritoryFactory(
        name="Snowflake shops", priority=1,
        criteria=[{"attribute": "technologies", "operator": "contains", "value": "Snowflake"}],
    )  # fmt: skip
    smb = TerritoryFactory(
        name="SMB", priority=2, criteria=[{"attribute": "segment", "operator": "eq", "value": "smb"}]
    )
    for territory in (stack, smb):
        MembershipFactory(user=UserFactory(role="rep"), territory=territory)
    on_stack = AccountFactory(country="Peru", technologies=["AWS", "Snowflake"])
    small = AccountFactory(country="Peru", attributes={"segment": "smb"})
    columns = routing_columns(_new_plan(TODAY).router)
    assert "attributes" in columns and "technologies" in columns
    _, moves, _, _ = plan_of(world["admin"], 2)
    placed = {account_id: territory_id for account_id, _, _, territory_id, _ in moves}
    assert (placed[on_stack.pk], placed[small.pk]) == (stack.pk, smb.pk)
