"""Assignment runs: preview equals apply, capacity and holidays, persisted rotation, scope, the change log."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from accounts.models import Account
from territories.models import Membership, OwnershipChange
from territories.services import account_reassign, assignment_apply, assignment_plan

from ..factories import AccountFactory, MembershipFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db
FR = [{"attribute": "country", "operator": "eq", "value": "France"}]
DE = [{"attribute": "country", "operator": "eq", "value": "Germany"}]


@pytest.fixture
def setup():
    admin = UserFactory(username="boss", role="admin")
    france = TerritoryFactory(name="France", criteria=FR)
    germany = TerritoryFactory(name="Germany", criteria=DE, strategy="load_balanced")
    reps = [UserFactory(username=f"fr{i}", role="rep") for i in range(3)]
    for rep in reps:
        MembershipFactory(user=rep, territory=france)
    de_rep = UserFactory(username="de0", role="rep")
    MembershipFactory(user=de_rep, territory=germany, max_accounts=2)
    fr_manager = UserFactory(username="frm", role="manager")
    MembershipFactory(user=fr_manager, territory=france, role="manager")
    de_manager = UserFactory(username="dem", role="manager")
    MembershipFactory(user=de_manager, territory=germany, role="manager")
    accounts = [AccountFactory(country="France") for _ in range(7)] + [
        AccountFactory(country="Germany") for _ in range(3)
    ]
    AccountFactory(country="Peru")
    return {
        "admin": admin,
        "france": france,
        "germany": germany,
        "reps": reps,
        "de_rep": de_rep,
        "fr_manager": fr_manager,
        "de_manager": de_manager,
        "accounts": accounts,
    }


def state():
    return sorted(Account.objects.values_list("id", "owner_id", "territory_id"))


def planned(**kwargs):
    """The plan and every move it handed out (a chunk at a time)."""
    moves = []
    plan = assignment_plan(on_moves=moves.extend, **kwargs)
    assert plan.move_count == len(moves)
    return plan, moves


def test_preview_equals_what_apply_does(setup):
    before = state()
    plan, moves = planned(user=setup["admin"])
    assert state() == before  # a preview writes nothing
    expected = {m.account_id: (m.to_owner_id, m.to_territory_id) for m in moves}
    applied = []
    _, result = assignment_apply(user=setup["admin"], on_moves=applied.extend)
    assert [(m.account_id, m.to_owner_id, m.to_territory_id) for m in applied] == [
        (m.account_id, m.to_owner_id, m.to_territory_id) for m in moves
    ]
    after = {pk: (owner, territory) for pk, owner, territory in state()}
    for account_id, target in expected.items():
        assert after[account_id] == target
    assert result.moved == len(moves) == 10  # the Peruvian account matches no territory
    assert {r["username"]: (r["before"], r["after"]) for r in plan.rep_counts()} == {
        "fr0": (0, 3),
        "fr1": (0, 2),
        "fr2": (0, 2),
        "de0": (0, 2),
    }
    assert plan.unassigned == 2  # one German account over capacity, one in no territory
    # A second run has nothing left to do.
    assert planned(user=setup["admin"])[1] == []


def test_every_move_is_logged_with_its_rule_and_author(setup):
    assignment_apply(user=setup["admin"])
    changes = OwnershipChange.objects.all()
    assert changes.count() == 10
    change = changes.filter(to_owner=setup["de_rep"]).first()
    assert change.changed_by == setup["admin"]
    assert change.rule == "matches the rules of Germany; load balanced"
    assert (
        changes.filter(to_owner__isnull=True, to_territory=setup["germany"])
        .get()
        .rule.endswith("no eligible member: unassigned")
    )


def test_round_robin_position_persists_between_runs(setup):
    for account in setup["accounts"][3:]:
        account.delete()
    assignment_apply(user=setup["admin"])  # three French accounts: fr0, fr1, fr2
    AccountFactory(country="France")
    _, _ = assignment_apply(user=setup["admin"])
    owners = list(Account.objects.filter(country="France").order_by("id").values_list("owner__username", flat=True))
    assert owners == ["fr0", "fr1", "fr2", "fr0"]
    AccountFactory(country="France")
    assignment_apply(user=setup["admin"])
    assert Account.objects.filter(country="France").order_by("-id").first().owner.username == "fr1"


def test_owner_keeps_accounts_and_away_members_resume(setup):
    kept = setup["accounts"][0]
    kept.owner, kept.territory = setup["reps"][2], setup["france"]
    kept.save()
    Membership.objects.filter(user=setup["reps"][2]).update(
        max_accounts=1, away_from=dt.date(2026, 6, 1), away_until=dt.date(2026, 6, 10)
    )
    _, moves = planned(user=setup["admin"], today=dt.date(2026, 6, 5))
    assert kept.pk not in {m.account_id for m in moves}  # kept, though away and at capacity
    owners = {m.to_owner_id for m in moves if m.to_territory_id == setup["france"].pk}
    assert setup["reps"][2].pk not in owners
    Membership.objects.filter(user=setup["reps"][2]).update(max_accounts=None)
    _, back = planned(user=setup["admin"], today=dt.date(2026, 6, 11))
    assert setup["reps"][2].pk in {m.to_owner_id for m in back}


def test_a_manager_assigns_only_within_their_territories(setup):
    assignment_apply(user=setup["admin"])
    for account in Account.objects.filter(territory=setup["germany"]):
        account.country = "France"  # now matches France, but the German manager may not move it there
        account.owner = None
        account.save()
    plan, result = assignment_apply(user=setup["de_manager"])
    assert plan.outside_scope == 3 and result.moved == 0
    assert Account.objects.filter(territory=setup["germany"]).count() == 3
    _, moves = planned(user=setup["fr_manager"])
    assert all(m.to_territory_id == setup["france"].pk for m in moves)
    with pytest.raises(PermissionDenied):
        assignment_plan(user=setup["reps"][0])


def test_manual_reassign_rules(setup):
    assignment_apply(user=setup["admin"])
    french = Account.objects.filter(territory=setup["france"]).exclude(owner=setup["reps"][1]).first()
    german = Account.objects.filter(territory=setup["germany"], owner__isnull=False).first()
    assert account_reassign(user=setup["fr_manager"], account_ids=[french.pk], owner=setup["reps"][1]) == 1
    assert (
        account_reassign(user=setup["fr_manager"], account_ids=[french.pk], owner=setup["reps"][1]) == 0
    )  # already theirs
    french.refresh_from_db()
    assert french.owner == setup["reps"][1]
    with pytest.raises(PermissionDenied):
        account_reassign(user=setup["fr_manager"], account_ids=[german.pk], owner=setup["reps"][1])
    with pytest.raises(ValidationError):
        account_reassign(
            user=setup["fr_manager"], account_ids=[french.pk], owner=setup["de_rep"]
        )  # not a member of France
    with pytest.raises(PermissionDenied):
        account_reassign(user=setup["reps"][0], account_ids=[french.pk], owner=setup["reps"][0])
    german.refresh_from_db()
    assert german.owner == setup["de_rep"]
    log = OwnershipChange.objects.filter(account=french, rule="manual reassignment")
    assert all(c.changed_by == setup["fr_manager"] for c in log)


def test_assign_owners_command(setup, capsys):
    call_command("assign_owners", "--preview")
    out = capsys.readouterr().out
    assert "11 accounts considered; 10 would move; 2 would stay unassigned." in out
    assert Account.objects.filter(owner__isnull=False).count() == 0
    call_command("assign_owners")
    assert "10 moved" in capsys.readouterr().out
    assert Account.objects.filter(owner__isnull=False).count() == 9


def test_new_accounts_are_routed_at_once(setup, tmp_path, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    from accounts.imports import import_file, import_records

    source = tmp_path / "new.csv"
    source.write_text("external_id,name,country\nN1,New French,France\nN2,Placed,France\n", encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        import_file(kind="accounts", path=source)
    routed = Account.objects.get(external_id="N1")
    assert (routed.territory, routed.owner.username) == (setup["france"], "fr0")
    assert OwnershipChange.objects.filter(
        account=routed, changed_by__isnull=True, rule="matches the rules of France; round robin"
    ).exists()
    with django_capture_on_commit_callbacks(execute=True):
        import_records(kind="accounts", records=[{"external_id": "N3", "name": "Bulk German", "country": "Germany"}])
    assert Account.objects.get(external_id="N3").owner == setup["de_rep"]
    api = APIClient()
    api.force_authenticate(setup["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/accounts/", {"name": "Via API", "external_id": "N4", "country": "France"}, format="json"
        )
    assert Account.objects.get(pk=created.json()["id"]).territory == setup["france"]


def test_changed_accounts_are_rerouted(setup, tmp_path, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    from accounts.imports import import_file

    assignment_apply(user=setup["admin"])
    moving = setup["accounts"][0]
    source = tmp_path / "moves.csv"
    source.write_text(f"external_id,name,country\n{moving.external_id},{moving.name},Germany\n", encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        import_file(kind="accounts", path=source)
    moving.refresh_from_db()
    assert moving.territory == setup["germany"]
    api = APIClient()
    api.force_authenticate(setup["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(f"/api/v1/accounts/{moving.pk}/", {"country": "France"}, format="json")
    moving.refresh_from_db()
    assert moving.territory == setup["france"]
    # Placed explicitly: left where the request put it.
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(
            f"/api/v1/accounts/{moving.pk}/", {"country": "Germany", "territory": setup["france"].pk}, format="json"
        )
    moving.refresh_from_db()
    assert moving.territory == setup["france"]
