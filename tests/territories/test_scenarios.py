"""Territory planning scenarios: copy the live territories, change the copy, balance it, compare, apply.

North (managed by `manager`) has north_rep owning six accounts; the scenario adds a second rep, so the balancer
hands some of north_rep's accounts to them. Nothing live changes until the scenario is applied.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Account, PendingOwnerChange
from insights.models import AccountPotential
from territories.models import Membership, OwnershipChange, Scenario, ScenarioAssignment, Territory
from territories.services.scenarios import (
    scenario_apply,
    scenario_apply_start,
    scenario_apply_summary,
    scenario_create,
    scenario_member_add,
    scenario_member_update,
    scenario_run,
    scenario_territory_update,
    scenario_update,
)

from ..factories import AccountFactory, AccountScoreFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def north(world):
    """Six North accounts, all owned by north_rep, with potentials 100..600 (the largest two Tier 1); and a rep who
    is not yet a member anywhere."""
    accounts = []
    for n in range(1, 7):
        account = AccountFactory(name=f"North {n}", territory=world.north, owner=world.north_rep)
        AccountPotential.objects.create(
            account=account, win_probability=0.1, deal_size=1000 * n, expected_value=100 * n, band="b",
            computed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )  # fmt: skip
        AccountScoreFactory(account=account, tier="tier_1" if n > 4 else "tier_2")
        accounts.append(account)
    newcomer = UserFactory(username="newcomer", first_name="Nora", last_name="Newcomer", role="rep")
    # Routing places by rules: North takes the accounts in the United States (all of the world's).
    world.north.criteria = [{"group": "", "attribute": "country", "operator": "eq", "value": "United States"}]
    world.north.save(update_fields=["criteria"])
    return accounts, newcomer


def live_state():
    """Every live table a scenario must leave alone until applied."""
    return {
        "territories": list(Territory.objects.order_by("pk").values()),
        "named": list(Territory.named_accounts.through.objects.order_by("pk").values()),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "accounts": list(Account.objects.order_by("pk").values("pk", "owner_id", "territory_id")),
        "ownership_changes": list(OwnershipChange.objects.order_by("pk").values()),
    }


def planned(world, newcomer, *, user=None, name="FY27 North"):
    """A scenario of North with the newcomer added as a rep (weight 1), balanced freely."""
    scenario = scenario_create(user=user or world.manager, name=name)
    north_copy = scenario.territories.get(source=world.north)
    scenario_member_add(territory=north_copy, user=newcomer, values={"role": "rep", "max_accounts": 10})
    return scenario


# --- Copy ------------------------------------------------------------------------------------------------------


def test_a_manager_copies_only_the_territories_they_manage_with_their_members(world):
    Membership.objects.filter(user=world.north_rep).update(
        max_accounts=40, max_tier1_accounts=5, weight=2, away_from=dt.date(2027, 1, 1), away_until=dt.date(2027, 1, 9)
    )
    world.north.criteria = [{"group": "", "attribute": "country", "operator": "eq", "value": "Norway"}]
    world.north.save(update_fields=["criteria"])
    world.north.named_accounts.add(world.north_account)

    scenario = scenario_create(user=world.manager, name="FY27 North")

    copies = {t.name: t for t in scenario.territories.all()}
    assert set(copies) == {"North", "North-East"}  # not South: the manager does not manage it
    assert not scenario.covers_all
    assert copies["North-East"].parent == copies["North"]
    assert copies["North"].criteria == world.north.criteria
    assert copies["North"].named_account_ids == [world.north_account.pk]
    rep = copies["North"].members.get(user=world.north_rep)
    assert (rep.max_accounts, rep.max_tier1_accounts, rep.weight) == (40, 5, 2)
    assert (rep.away_from, rep.away_until) == (dt.date(2027, 1, 1), dt.date(2027, 1, 9))
    assert set(copies["North"].members.values_list("user__username", flat=True)) == {"manager", "north_rep"}


def test_an_admin_copies_every_territory(world):
    scenario = scenario_create(user=world.admin, name="Everything")
    assert scenario.covers_all
    assert set(scenario.territories.values_list("name", flat=True)) == {"North", "North-East", "South"}


def test_a_rep_may_not_plan(world):
    with pytest.raises(PermissionDenied):
        scenario_create(user=world.north_rep, name="Mine")


def test_a_scenario_needs_a_name(world):
    with pytest.raises(ValidationError) as refused:
        scenario_create(user=world.manager, name="  ")
    assert refused.value.message_dict == {"name": ["Give the scenario a name."]}


# --- Nothing live changes ----------------------------------------------------------------------------------------


def test_creating_editing_and_running_a_scenario_changes_nothing_live(world, north):
    accounts, newcomer = north
    before = live_state()

    scenario = planned(world, newcomer)
    north_copy = scenario.territories.get(source=world.north)
    scenario_territory_update(
        territory=north_copy,
        values={"criteria": [{"group": "", "attribute": "country", "operator": "eq", "value": "United States"}],
                "priority": 5, "strategy": "load_balanced"},
    )  # fmt: skip
    scenario_member_update(member=north_copy.members.get(user=world.north_rep), values={"max_accounts": 3, "weight": 2})
    scenario_update(scenario=scenario, values={"disruption": 0, "weight_count": 2})
    scenario_run(scenario=scenario)

    assert ScenarioAssignment.objects.filter(scenario=scenario).exists()
    assert live_state() == before


# --- Run -------------------------------------------------------------------------------------------------------


def test_the_balancer_gives_the_new_rep_a_fair_share_and_keeps_the_figures(world, north):
    accounts, newcomer = north
    scenario = planned(world, newcomer)
    result = scenario_run(scenario=scenario)

    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.READY
    proposed = dict(
        ScenarioAssignment.objects.filter(scenario=scenario, account__in=accounts).values_list("account_id", "to_owner")
    )
    assert list(proposed.values()).count(newcomer.pk) >= 2
    assert result["status"] in ("optimal", "feasible")
    assert set(result["plans"]) == {"live", "greedy", "balanced"}
    reps = result["rep_ids"]
    balanced = dict(zip(reps, result["plans"]["balanced"]["count"], strict=True))
    live = dict(zip(reps, result["plans"]["live"]["count"], strict=True))
    assert live[world.north_rep.pk] == 7 and live[newcomer.pk] == 0  # with the world's North account
    # North's nine accounts in the United States (the world's three besides these six) over two reps of one weight.
    assert sorted([balanced[world.north_rep.pk], balanced[newcomer.pk]]) == [4, 5]
    assert result["plans"]["balanced"]["potential_gini"] < result["plans"]["live"]["potential_gini"]


def test_full_disruption_moves_only_what_must_move(world, north):
    accounts, newcomer = north
    scenario = planned(world, newcomer)
    scenario_update(scenario=scenario, values={"disruption": 100})
    result = scenario_run(scenario=scenario)
    assert result["plans"]["balanced"]["accounts_moved"] == 0
    kept = ScenarioAssignment.objects.filter(scenario=scenario, account__in=accounts, to_owner=world.north_rep)
    assert kept.count() == 6
    # What must move does: the North-East account (North's rules take it) and the one its owner, no member, held.
    assert result["accounts_changing"] == 2


def test_an_account_the_new_rules_send_nowhere_stays_in_a_managers_scenario(world, north):
    accounts, newcomer = north
    scenario = planned(world, newcomer)
    north_copy = scenario.territories.get(source=world.north)
    scenario_territory_update(
        territory=north_copy, values={"criteria": [{"attribute": "country", "operator": "eq", "value": "Peru"}]}
    )
    scenario_run(scenario=scenario)
    kept = ScenarioAssignment.objects.get(scenario=scenario, account=accounts[0])
    assert (kept.to_owner_id, kept.to_territory_id) == (world.north_rep.pk, world.north.pk)


def test_bad_settings_and_members_are_refused_with_reasons(world, north):
    accounts, newcomer = north
    scenario = planned(world, newcomer)
    with pytest.raises(ValidationError) as refused:
        scenario_update(scenario=scenario, values={"disruption": 101, "weight_potential": -1})
    assert set(refused.value.message_dict) == {"disruption", "weight_potential"}
    member = scenario.territories.get(source=world.north).members.get(user=newcomer)
    with pytest.raises(ValidationError) as refused:
        scenario_member_update(
            member=member, values={"weight": 0, "away_from": dt.date(2027, 2, 2), "away_until": dt.date(2027, 2, 1)}
        )
    assert set(refused.value.message_dict) == {"weight", "away_until"}
    with pytest.raises(ValidationError) as refused:
        scenario_territory_update(
            territory=member.territory, values={"criteria": [{"attribute": "country", "operator": "between"}]}
        )
    assert "criteria" in refused.value.message_dict


# --- Apply -----------------------------------------------------------------------------------------------------


def test_applying_updates_the_live_model_moves_accounts_and_logs_every_move(world, north):
    accounts, newcomer = north
    scenario = planned(world, newcomer)
    north_copy = scenario.territories.get(source=world.north)
    scenario_territory_update(territory=north_copy, values={"priority": 7})
    scenario_member_update(member=north_copy.members.get(user=newcomer), values={"weight": Decimal("1.50")})
    scenario_run(scenario=scenario)
    summary = scenario_apply_summary(scenario=scenario)
    assert (summary.territories, summary.members, summary.base_changed) == (1, 1, False)
    assert summary.accounts >= 3

    scenario_apply_start(scenario=scenario, user=world.manager)
    outcome = scenario_apply(scenario=scenario, user=world.manager)

    world.north.refresh_from_db()
    assert world.north.priority == 7
    joined = Membership.objects.get(territory=world.north, user=newcomer)
    assert (joined.max_accounts, float(joined.weight), joined.role) == (10, 1.5, "rep")
    moved = OwnershipChange.objects.filter(rule="Scenario FY27 North applied")
    assert moved.count() == summary.accounts == outcome["accounts moved"]
    assert set(moved.values_list("to_owner", flat=True)) == {newcomer.pk}
    assert set(moved.values_list("changed_by", flat=True)) == {world.manager.pk}
    owned = Account.objects.filter(pk__in=[a.pk for a in accounts], owner=newcomer).count()
    assert owned == moved.filter(account__in=accounts).count()
    # Pending handoffs follow the owners: the moved accounts are on the owner-change queue.
    assert set(moved.values_list("account_id", flat=True)) <= set(
        PendingOwnerChange.objects.values_list("pk", flat=True)
    )
    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.APPLIED
    with pytest.raises(ValidationError, match="already applied"):
        scenario_apply_start(scenario=scenario, user=world.manager)
    with pytest.raises(ValidationError, match="was applied"):
        scenario_update(scenario=scenario, values={"disruption": 10})


def test_applying_removes_members_the_scenario_removed(world, north):
    accounts, newcomer = north
    scenario = planned(world, newcomer)
    sub = scenario.territories.get(source=world.north_east).members.get(user=world.sub_rep)
    from territories.services.scenarios import scenario_member_remove

    scenario_member_remove(member=sub)
    scenario_run(scenario=scenario)
    scenario_apply_start(scenario=scenario, user=world.manager)
    scenario_apply(scenario=scenario, user=world.manager)
    assert not Membership.objects.filter(user=world.sub_rep, territory=world.north_east).exists()


def test_a_scenario_must_be_balanced_again_after_an_edit_before_it_is_applied(world, north):
    accounts, newcomer = north
    scenario = planned(world, newcomer)
    with pytest.raises(ValidationError, match="Run the balancer"):
        scenario_apply_start(scenario=scenario, user=world.manager)
    scenario_run(scenario=scenario)
    scenario_update(scenario=scenario, values={"disruption": 50})
    with pytest.raises(ValidationError, match="Run the balancer"):
        scenario_apply_start(scenario=scenario, user=world.manager)


def test_a_live_change_since_the_copy_warns_before_applying(world, north):
    accounts, newcomer = north
    scenario = planned(world, newcomer)
    scenario_run(scenario=scenario)
    MembershipFactory(territory=world.north, user=UserFactory(role="rep"))  # someone joined North meanwhile

    assert scenario_apply_summary(scenario=scenario).base_changed
    with pytest.raises(ValidationError, match="changed since this scenario was copied"):
        scenario_apply_start(scenario=scenario, user=world.manager)
    scenario_apply_start(scenario=scenario, user=world.manager, base_change_accepted=True)
    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.APPLYING


# --- Pages -----------------------------------------------------------------------------------------------------


def test_the_pages_copy_edit_run_compare_and_apply(world, north, client, django_capture_on_commit_callbacks):
    accounts, newcomer = north
    client.force_login(world.manager)
    answer = client.post(reverse("scenario-list"), {"name": ""})
    assert answer.status_code == 200 and "Give the scenario a name." in answer.content.decode()
    assert not Scenario.objects.exists()
    answer = client.post(reverse("scenario-list"), {"name": "FY27 North"})
    scenario = Scenario.objects.get()
    assert answer.url == reverse("scenario-detail", args=[scenario.pk])
    north_copy = scenario.territories.get(source=world.north)

    answer = client.post(
        reverse("scenario-member-new", args=[scenario.pk, north_copy.pk]),
        {"user": newcomer.pk, "role": "rep", "max_accounts": "abc", "weight": "1"},
    )
    assert "Enter a whole number." in answer.content.decode()
    client.post(
        reverse("scenario-member-new", args=[scenario.pk, north_copy.pk]),
        {"user": newcomer.pk, "role": "rep", "max_accounts": "10", "weight": "1"},
    )
    assert north_copy.members.filter(user=newcomer, max_accounts=10).exists()
    settings = {"name": "FY27 North", "weight_potential": "1", "weight_count": "1", "weight_tier1": "1"}
    answer = client.post(reverse("scenario-detail", args=[scenario.pk]), {**settings, "disruption": "150"})
    assert "Choose a value from 0 to 100 percent." in answer.content.decode()
    client.post(reverse("scenario-detail", args=[scenario.pk]), {**settings, "disruption": "20"})
    scenario.refresh_from_db()
    assert scenario.disruption == 20

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("scenario-run", args=[scenario.pk]))
    assert answer.url == reverse("scenario-compare", args=[scenario.pk])
    page = client.get(answer.url).content.decode()
    name = newcomer.get_full_name()
    assert f'data-rep="{name}"' in page and "Balanced 9 of 9 accounts" in page

    confirm = client.get(reverse("scenario-apply", args=[scenario.pk])).content.decode()
    assert "Apply the scenario" in confirm
    assert OwnershipChange.objects.count() == 0  # asking changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("scenario-apply", args=[scenario.pk]), {})
    assert answer.status_code == 302
    assert OwnershipChange.objects.filter(rule="Scenario FY27 North applied").count() > 0
    again = client.get(reverse("scenario-apply", args=[scenario.pk])).content.decode()
    assert "cannot be applied again" in again


def test_another_manager_and_reps_are_refused_the_pages(world, north, client):
    scenario = scenario_create(user=world.manager, name="FY27 North")
    member = scenario.territories.get(source=world.north).members.first()
    client.force_login(world.other_manager)
    assert client.get(reverse("scenario-detail", args=[scenario.pk])).status_code == 404
    assert client.get(reverse("scenario-member-edit", args=[scenario.pk, member.pk])).status_code == 404
    assert client.post(reverse("scenario-run", args=[scenario.pk])).status_code == 404
    assert "FY27 North" not in client.get(reverse("scenario-list")).content.decode()
    client.force_login(world.north_rep)
    assert client.get(reverse("scenario-list")).status_code == 403


def test_an_admins_scenario_of_every_territory_is_not_a_managers(world, client):
    scenario_create(user=world.admin, name="Everything")
    client.force_login(world.manager)
    assert "Everything" not in client.get(reverse("scenario-list")).content.decode()


def test_deleting_asks_first_and_changes_nothing_live(world, north, client):
    scenario = scenario_create(user=world.manager, name="FY27 North")
    before = live_state()
    client.force_login(world.manager)
    page = client.get(reverse("scenario-delete", args=[scenario.pk])).content.decode()
    assert "Delete the scenario FY27 North?" in page
    assert Scenario.objects.filter(pk=scenario.pk).exists()
    client.post(reverse("scenario-delete", args=[scenario.pk]))
    assert not Scenario.objects.filter(pk=scenario.pk).exists()
    assert live_state() == before


# --- API -------------------------------------------------------------------------------------------------------


def test_the_api_copies_runs_compares_and_applies(world, north, django_capture_on_commit_callbacks):
    accounts, newcomer = north
    api = APIClient()
    api.force_authenticate(world.manager)
    assert api.post("/api/v1/scenarios/", {"name": "", "disruption": 300}, format="json").status_code == 400
    created = api.post("/api/v1/scenarios/", {"name": "FY27 North", "disruption": 30}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["disruption"] == 30 and {t["name"] for t in body["territories"]} == {"North", "North-East"}
    url = f"/api/v1/scenarios/{body['id']}/"
    assert api.get(f"{url}comparison/").status_code == 404  # not run yet
    assert api.post(f"{url}apply/", {}, format="json").status_code == 409
    assert api.patch(url, {"disruption": 0, "weight_count": "2"}, format="json").json()["disruption"] == 0
    assert api.patch(url, {"disruption": -1}, format="json").status_code == 400

    with django_capture_on_commit_callbacks(execute=True):
        ran = api.post(f"{url}run/", {}, format="json")
    assert ran.status_code == 202
    assert api.get(f"/api/v1/jobs/{ran.json()['job']}/").json()["status"] == "succeeded"
    comparison = api.get(f"{url}comparison/").json()
    assert {p["plan"] for p in comparison["plans"]} == {"live", "balanced", "greedy"}
    assert world.north_rep.get_full_name() in {r["name"] for r in comparison["reps"]}

    with django_capture_on_commit_callbacks(execute=True):
        applied = api.post(f"{url}apply/", {}, format="json")
    assert applied.status_code == 202
    assert api.get(url).json()["status"] == "applied"
    again = api.post(f"{url}apply/", {}, format="json")
    assert again.status_code == 409 and "already applied" in again.json()["detail"]

    other = APIClient()
    other.force_authenticate(world.other_manager)
    assert other.get(url).status_code == 404
    assert body["id"] not in [s["id"] for s in other.get("/api/v1/scenarios/").json()["results"]]
    rep = APIClient()
    rep.force_authenticate(world.north_rep)
    assert rep.get("/api/v1/scenarios/").status_code == 403


def test_the_api_edits_rules_and_members_and_nothing_live_changes(world, north):
    """PATCH a copied territory's rules, POST a member, PATCH their weight and capacity, DELETE them: each answered
    with the changed object or the field's reason, another manager blind to it, and nothing live touched."""
    accounts, newcomer = north
    before = live_state()
    api = APIClient()
    api.force_authenticate(world.manager)
    scenario = api.post("/api/v1/scenarios/", {"name": "API plan"}, format="json").json()
    url = f"/api/v1/scenarios/{scenario['id']}/"
    copy = next(t for t in scenario["territories"] if t["source"] == world.north.pk)

    rule = {"group": "Geo", "attribute": "country", "operator": "in", "value": ["United States", "Canada"]}
    changed = api.patch(f"{url}territories/{copy['id']}/", {"criteria": [rule], "priority": 5}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["priority"] == 5 and changed.json()["criteria"][0]["value"] == ["United States", "Canada"]
    bad = api.patch(f"{url}territories/{copy['id']}/", {"criteria": [{**rule, "operator": "between"}]}, format="json")
    assert bad.status_code == 400 and "criteria" in bad.json()

    added = api.post(f"{url}territories/{copy['id']}/members/", {"user": newcomer.pk, "weight": "2"}, format="json")
    assert added.status_code == 201, added.json()
    member = added.json()
    assert member["user"] == newcomer.pk and member["role"] == "rep" and member["weight"] == "2.00"
    again = api.post(f"{url}territories/{copy['id']}/members/", {"user": newcomer.pk}, format="json")
    assert again.status_code == 400 and "already a member" in str(again.json())
    manager_as_rep = api.post(
        f"{url}territories/{copy['id']}/members/", {"user": world.other_manager.pk}, format="json"
    )
    assert manager_as_rep.status_code == 400 and "user" in manager_as_rep.json()
    as_manager = api.post(
        f"{url}territories/{copy['id']}/members/", {"user": world.other_manager.pk, "role": "manager"}, format="json"
    )
    assert as_manager.status_code == 400 and as_manager.json()["role"] == ["Only RevOps admins appoint managers."]

    patched = api.patch(f"{url}members/{member['id']}/", {"weight": "0.5", "max_accounts": 3}, format="json")
    assert patched.status_code == 200 and (patched.json()["weight"], patched.json()["max_accounts"]) == ("0.50", 3)
    assert api.patch(f"{url}members/{member['id']}/", {"weight": "0"}, format="json").status_code == 400
    backwards = {"away_from": "2027-02-10", "away_until": "2027-02-01"}
    assert "away_until" in api.patch(f"{url}members/{member['id']}/", backwards, format="json").json()

    blind = APIClient()
    blind.force_authenticate(world.other_manager)
    assert blind.patch(f"{url}members/{member['id']}/", {"weight": "3"}, format="json").status_code == 404
    assert blind.patch(f"{url}territories/{copy['id']}/", {"priority": 1}, format="json").status_code == 404
    rep = APIClient()
    rep.force_authenticate(world.north_rep)
    assert rep.delete(f"{url}members/{member['id']}/").status_code == 403

    assert api.delete(f"{url}members/{member['id']}/").status_code == 204
    assert api.delete(f"{url}members/{member['id']}/").status_code == 404
    assert live_state() == before


def test_the_add_member_form_offers_the_people_not_in_the_scenario_territory(world, north):
    """The scenario's form is the live territory's: people already in the copy are not offered (even those the live
    territory lacks), a manager adds reps only, and a weight left empty is 1."""
    from territories.scenario_forms import ScenarioMemberAddForm

    _, newcomer = north
    scenario = planned(world, newcomer)
    north_copy = scenario.territories.get(source=world.north)
    form = ScenarioMemberAddForm(territory=north_copy, may_set_role=False)
    offered = {pk for pk, _ in form.fields["user"].choices if pk}
    assert newcomer.pk not in offered and world.north_rep.pk not in offered  # in the copy already
    assert world.other_rep.pk in offered and world.manager.pk not in offered  # a manager adds reps only
    assert "role" not in form.fields or form.fields["role"].choices == [("rep", "Rep")]
    added = ScenarioMemberAddForm({"user": world.other_rep.pk, "role": "rep"}, territory=north_copy, may_set_role=False)
    assert added.is_valid(), added.errors
    assert added.cleaned_data["weight"] == Decimal(1) and added.cleaned_data["person"] == world.other_rep
