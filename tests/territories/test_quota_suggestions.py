"""Quota planning: suggested territory and rep quotas from spend potential and capacity, checked by hand on a small
world; saving them (create, then update the same period; nothing on bad input); who may plan which territories."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from insights.models import AccountPotential
from territories.models import Membership, Quota, RepQuota
from territories.quota_plan import RepBasis, rep_split
from territories.quota_suggestions import next_quarter, quota_plan_save, quota_suggestion

from ..factories import AccountFactory, MembershipFactory, OpportunityFactory, UserFactory

YEAR = {"period_start": "2027-01-01", "period_end": "2027-12-31"}  # 365 days: the yearly rate as it is
QUARTER = {"period_start": "2027-01-01", "period_end": "2027-03-31"}  # 90 days


def potential(account, value):
    AccountPotential.objects.create(
        account=account,
        win_probability=0.2,
        deal_size=value * 5,
        expected_value=value,
        band="60-80",
        computed_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )


def won(account, amount, closed_on, *, is_won=True):
    OpportunityFactory(account=account, amount=amount, closed_on=closed_on, is_won=is_won, is_closed=True)


@pytest.fixture
def plan(world):
    """Spend potential 1,000,000 in all: North 500,000 (north_rep owns 400,000, north_rep2 100,000), North-East
    200,000 (nobody owns it), South 300,000. Won in 2026: 150,000 in North and 50,000 in South, so 20% a year over
    every territory, 150,000 / 700,000 over the manager's North and North-East."""
    north_rep2 = UserFactory(username="north_rep2", first_name="Noor", last_name="Second", role="rep")
    MembershipFactory(user=north_rep2, territory=world.north)
    second = AccountFactory(name="Second's account", territory=world.north, owner=north_rep2)
    potential(world.north_account, 400_000)
    potential(second, 100_000)
    potential(world.north_east_account, 200_000)
    potential(world.south_account, 300_000)
    won(world.north_account, 150_000, dt.date(2026, 6, 30))
    won(world.south_account, 50_000, dt.date(2026, 12, 31))
    won(world.north_account, 999, dt.date(2025, 12, 31))  # before the year that counts
    won(world.north_account, 777, dt.date(2027, 1, 1))  # in the period itself
    won(world.south_account, 10_000, dt.date(2026, 5, 1), is_won=False)  # lost
    world.north_rep2 = north_rep2
    return world


def lines_of(suggestion):
    return {
        line.territory.name: (line.suggested, {rep.user.username: rep.suggested for rep in line.reps})
        for line in suggestion.territories
    }


def test_the_suggestion_by_hand_for_a_year(plan):
    suggestion = quota_suggestion(user=plan.admin, period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31))
    assert suggestion.won_amount == Decimal("200000.00") and suggestion.plan_potential == Decimal("1000000.00")
    assert suggestion.rate == Decimal("0.2") and not suggestion.rate_typed
    assert (suggestion.history_start, suggestion.history_end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert lines_of(suggestion) == {
        # 20% x 500,000; the reps by the potential they own: 400,000 and 100,000 of 500,000
        "North": (Decimal(100_000), {"north_rep": Decimal(80_000), "north_rep2": Decimal(20_000)}),
        # nobody owns North-East's potential: by weight, its only rep carries it all
        "North-East": (Decimal(40_000), {"sub_rep": Decimal(40_000)}),
        "South": (Decimal(60_000), {"other_rep": Decimal(60_000)}),
    }
    north_east = next(line for line in suggestion.territories if line.territory == plan.north_east)
    assert north_east.split_by == "weight" and north_east.potential == Decimal("200000.00")


def test_a_quarter_is_prorated_and_a_typed_rate_replaces_the_historical_one(plan):
    quarter = quota_suggestion(user=plan.admin, period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 3, 31))
    # 20% x 500,000 x 90 / 365 = 24,657.53; the reps 80% and 20% of it: 19,726.03 and 4,931.51
    assert lines_of(quarter)["North"] == (Decimal(24_658), {"north_rep": Decimal(19_726), "north_rep2": Decimal(4_932)})
    typed = quota_suggestion(
        user=plan.admin, period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31), rate=Decimal("0.1")
    )
    assert typed.rate_typed and lines_of(typed)["South"] == (Decimal(30_000), {"other_rep": Decimal(30_000)})


def test_a_manager_plans_their_territories_at_their_rate(plan):
    suggestion = quota_suggestion(user=plan.manager, period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31))
    assert [line.territory.name for line in suggestion.territories] == ["North", "North-East"]
    # 150,000 won against 700,000 of potential: 3/14 a year; North: 500,000 x 3/14 = 107,142.86
    assert suggestion.won_amount == Decimal("150000.00") and suggestion.plan_potential == Decimal("700000.00")
    assert lines_of(suggestion)["North"][0] == Decimal(107_143)


def test_capacity_caps_a_rep_and_the_rest_goes_to_the_others():
    reps = [
        RepBasis(user_id=1, owned_potential=Decimal(600), weight=Decimal(1), max_accounts=2),  # at most 2/10
        RepBasis(user_id=2, owned_potential=Decimal(300), weight=Decimal(1), max_accounts=None),
        RepBasis(user_id=3, owned_potential=Decimal(100), weight=Decimal(1), max_accounts=10),
    ]
    split = rep_split(quota=Decimal(100_000), reps=reps, account_count=10)
    # 1 would get 60,000 but carries 20,000; 80,000 left, shared 300:100 by 2 and 3
    assert [(s.user_id, s.amount, s.capped) for s in split.reps] == [
        (1, Decimal(20_000), True),
        (2, Decimal(60_000), False),
        (3, Decimal(20_000), False),
    ]
    assert split.unallocated == 0 and split.by == "potential"


def test_weights_share_when_nobody_owns_and_what_nobody_can_carry_is_unallocated():
    by_weight = rep_split(
        quota=Decimal(100_000),
        reps=[
            RepBasis(user_id=1, owned_potential=Decimal(0), weight=Decimal(1), max_accounts=None),
            RepBasis(user_id=2, owned_potential=Decimal(0), weight=Decimal(3), max_accounts=None),
        ],
        account_count=4,
    )
    assert [s.amount for s in by_weight.reps] == [Decimal(25_000), Decimal(75_000)] and by_weight.by == "weight"
    full = rep_split(
        quota=Decimal(100_000),
        reps=[
            RepBasis(user_id=1, owned_potential=Decimal(5), weight=Decimal(1), max_accounts=1),
            RepBasis(user_id=2, owned_potential=Decimal(0), weight=Decimal(1), max_accounts=1),
        ],
        account_count=10,
    )
    # each may own 1 of 10 accounts: 10,000 each at most; the owner's cap leaves the rest to the other by weight
    assert [(s.amount, s.capped) for s in full.reps] == [(Decimal(10_000), True), (Decimal(10_000), True)]
    assert full.unallocated == Decimal(80_000)


def test_next_quarter():
    assert next_quarter(today=dt.date(2026, 12, 6)) == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    assert next_quarter(today=dt.date(2026, 2, 28)) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert next_quarter(today=dt.date(2026, 8, 1)) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))


# --- The page -----------------------------------------------------------------------------------------------------


def test_the_page_states_the_method_and_prefills_the_suggestions(client, plan):
    client.force_login(plan.manager)
    response = client.get(reverse("quota-suggestions"), YEAR)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Territory quota</strong> = attainment rate × the territory's spend potential" in html
    assert "21.4% of spend potential a year: $150,000 won from 2026-01-01 to 2026-12-31" in html
    form = response.context["form"]
    assert form[f"territory-{plan.north.pk}"].value() == Decimal(107_143)
    assert form[f"rep-{plan.north.pk}-{plan.north_rep.pk}"].value() == Decimal(85_714)
    assert "South" not in html  # not the manager's


def test_saving_creates_then_updates_the_same_period(client, plan):
    client.force_login(plan.manager)
    url = reverse("quota-suggestions") + "?period_start=2027-01-01&period_end=2027-03-31"
    north, rep, rep2 = plan.north.pk, plan.north_rep.pk, plan.north_rep2.pk
    response = client.post(
        url, {f"territory-{north}": "25000", f"rep-{north}-{rep}": "20000", f"rep-{north}-{rep2}": ""}
    )
    assert response.status_code == 302 and response.url == reverse("quota-list")
    quota = Quota.objects.get()
    assert (quota.territory, quota.period_start, quota.period_end, quota.amount, quota.updated_by) == (
        plan.north, dt.date(2027, 1, 1), dt.date(2027, 3, 31), 25_000, plan.manager
    )  # fmt: skip
    assert list(RepQuota.objects.values_list("user", "amount")) == [(rep, 20_000)]  # an empty amount saves nothing

    client.post(url, {f"territory-{north}": "26000", f"rep-{north}-{rep}": "21000", f"rep-{north}-{rep2}": "5000"})
    assert list(Quota.objects.values_list("amount", flat=True)) == [26_000]
    assert dict(RepQuota.objects.values_list("user", "amount")) == {rep: 21_000, rep2: 5_000}
    page = client.get(reverse("quota-list")).content.decode()
    assert "Noor Second" in page and "$5,000" in page and "$26,000" in page

    # Back on the plan, the saved amounts fill the form and show beside the suggestion.
    form = client.get(url).context["form"]
    assert form[f"rep-{north}-{rep2}"].value() == Decimal(5_000)


@pytest.mark.parametrize(
    "amounts, field, message",
    [
        ({"rep": "0"}, "rep", "above 0"),
        ({"rep": "-10"}, "rep", "above 0"),
        ({"territory": "1" * 20}, "territory", "more than any quota"),
    ],
)
def test_nothing_is_saved_on_a_bad_amount_and_what_was_typed_stays(client, plan, amounts, field, message):
    client.force_login(plan.manager)
    url = reverse("quota-suggestions") + "?period_start=2027-01-01&period_end=2027-03-31"
    names = {"territory": f"territory-{plan.north.pk}", "rep": f"rep-{plan.north.pk}-{plan.north_rep.pk}"}
    data = {names["territory"]: "25000", names["rep"]: "20000"}
    data.update({names[key]: value for key, value in amounts.items()})
    response = client.post(url, data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[names[field]])
    assert "Nothing was saved" in response.content.decode()
    assert response.context["form"][names[field]].value() == data[names[field]]
    assert not Quota.objects.exists() and not RepQuota.objects.exists()


def test_a_period_that_ends_before_it_starts_is_refused_beside_the_field(client, plan):
    client.force_login(plan.manager)
    response = client.get(reverse("quota-suggestions"), {"period_start": "2027-04-01", "period_end": "2027-03-31"})
    assert response.status_code == 200
    assert "must end on or after" in " ".join(response.context["period_form"].errors["period_end"])
    assert "form" not in response.context
    response = client.post(
        reverse("quota-suggestions") + "?period_start=2027-04-01&period_end=2027-03-31",
        {f"territory-{plan.north.pk}": "1000"},
    )
    assert response.status_code == 200 and not Quota.objects.exists()


def test_an_empty_plan_asks_for_an_amount(client, plan):
    client.force_login(plan.admin)
    response = client.post(reverse("quota-suggestions") + "?period_start=2027-01-01&period_end=2027-03-31", {})
    assert response.status_code == 200
    assert "Type at least one amount" in response.content.decode()


# --- Who may plan what --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["north_rep", "rep", "outsider"])
def test_reps_and_people_without_a_role_are_refused(client, plan, user):
    client.force_login(getattr(plan, user))
    url = reverse("quota-suggestions") + "?period_start=2027-01-01&period_end=2027-03-31"
    assert client.get(url).status_code == 403
    assert client.post(url, {f"territory-{plan.north.pk}": "1000"}).status_code == 403
    api = APIClient()
    api.force_authenticate(getattr(plan, user))
    assert api.get("/api/v1/quota-suggestions/").status_code == 403
    body = {**QUARTER, "territories": [{"territory": plan.north.pk, "amount": "1000"}]}
    assert api.post("/api/v1/quota-suggestions/", body, format="json").status_code == 403
    assert not Quota.objects.exists()


def test_a_manager_cannot_save_another_managers_territory(client, plan):
    client.force_login(plan.manager)
    url = reverse("quota-suggestions") + "?period_start=2027-01-01&period_end=2027-03-31"
    response = client.post(url, {f"territory-{plan.south.pk}": "1000", f"rep-{plan.south.pk}-{plan.other_rep.pk}": "9"})
    assert response.status_code == 200 and "Type at least one amount" in response.content.decode()  # no such row
    with pytest.raises(Exception, match="Not a territory you plan"):
        quota_plan_save(
            user=plan.manager,
            period_start=dt.date(2027, 1, 1),
            period_end=dt.date(2027, 3, 31),
            territory_amounts={plan.north.pk: Decimal(5), plan.south.pk: Decimal(1000)},
            rep_amounts={},
        )
    api = APIClient()
    api.force_authenticate(plan.manager)
    body = {
        **QUARTER,
        "territories": [{"territory": plan.north.pk, "amount": "5"}, {"territory": plan.south.pk, "amount": "1000"}],
    }
    response = api.post("/api/v1/quota-suggestions/", body, format="json")
    assert response.status_code == 400 and f"territory-{plan.south.pk}" in response.json()
    assert api.get("/api/v1/quota-suggestions/", {"territory": plan.south.pk}).status_code == 400
    assert not Quota.objects.exists()  # all or nothing: North's amount was not saved either


def test_a_person_who_is_not_a_rep_of_the_territory_gets_no_rep_quota(plan):
    Membership.objects.filter(user=plan.north_rep2).update(is_active=False)
    with pytest.raises(Exception, match="Not an active rep"):
        quota_plan_save(
            user=plan.admin,
            period_start=dt.date(2027, 1, 1),
            period_end=dt.date(2027, 3, 31),
            territory_amounts={},
            rep_amounts={
                (plan.north.pk, plan.north_rep2.pk): Decimal(5),
                (plan.north.pk, plan.other_rep.pk): Decimal(5),
            },
        )
    assert not RepQuota.objects.exists()


def test_managers_see_the_quotas_of_their_territories_only(client, plan):
    for territory in (plan.north, plan.south):
        Quota.objects.create(territory=territory, period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 3, 31),
                             amount=1234 if territory == plan.north else 9876)  # fmt: skip
    RepQuota.objects.create(territory=plan.south, user=plan.other_rep, period_start=dt.date(2027, 1, 1),
                            period_end=dt.date(2027, 3, 31), amount=4321)  # fmt: skip
    client.force_login(plan.manager)
    page = client.get(reverse("quota-list")).content.decode()
    assert "$1,234" in page and "$9,876" not in page and "$4,321" not in page
    assert "Add a quota" not in page and "Edit" not in page
    client.force_login(plan.admin)
    page = client.get(reverse("quota-list")).content.decode()
    assert "$1,234" in page and "$9,876" in page and "$4,321" in page


# --- The API ------------------------------------------------------------------------------------------------------


def test_the_api_suggests_and_saves(plan):
    api = APIClient()
    api.force_authenticate(plan.admin)
    response = api.get("/api/v1/quota-suggestions/", {**YEAR, "territory": plan.north.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["attainment_rate"] == "0.200000" and body["won_amount"] == "200000.00" and body["days"] == 365
    (north,) = body["territories"]
    assert (north["name"], north["suggested_amount"], north["saved_amount"]) == ("North", "100000.00", None)
    assert {r["name"]: r["suggested_amount"] for r in north["reps"]} == {
        plan.north_rep.get_full_name(): "80000.00",
        "Noor Second": "20000.00",
    }
    assert "territory quota = attainment rate" in body["method"]

    save = {
        **YEAR,
        "territories": [{"territory": plan.north.pk, "amount": "100000"}],
        "reps": [{"territory": plan.north.pk, "user": plan.north_rep2.pk, "amount": "25000"}],
    }
    assert api.post("/api/v1/quota-suggestions/", save, format="json").json() == {
        "territory_quotas": 1,
        "rep_quotas": 1,
    }
    save["reps"][0]["amount"] = "30000"
    assert api.post("/api/v1/quota-suggestions/", save, format="json").status_code == 200
    assert list(RepQuota.objects.values_list("amount", flat=True)) == [30_000]
    north = api.get("/api/v1/quota-suggestions/", {**YEAR, "territory": plan.north.pk}).json()["territories"][0]
    assert north["saved_amount"] == "100000.00"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"period_start": "2027-04-01", "period_end": "2027-03-31", "territories": []}, "period_end"),
        ({**QUARTER, "territories": [{"territory": 0, "amount": "5"}]}, "territories"),
        ({**QUARTER, "reps": [{"territory": 1, "user": 1, "amount": "lots"}]}, "reps"),
        ({**QUARTER}, "non_field_errors"),
    ],
)
def test_the_api_refuses_bad_input_with_field_messages(plan, body, field):
    api = APIClient()
    api.force_authenticate(plan.admin)
    response = api.post("/api/v1/quota-suggestions/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Quota.objects.exists() and not RepQuota.objects.exists()


def test_the_api_refuses_a_zero_amount_and_saves_nothing(plan):
    api = APIClient()
    api.force_authenticate(plan.admin)
    body = {
        **QUARTER,
        "territories": [{"territory": plan.north.pk, "amount": "5000"}],
        "reps": [{"territory": plan.north.pk, "user": plan.north_rep.pk, "amount": "0"}],
    }
    response = api.post("/api/v1/quota-suggestions/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {f"rep-{plan.north.pk}-{plan.north_rep.pk}": ["A quota is an amount above 0."]}
    assert not Quota.objects.exists()
    bad = api.get("/api/v1/quota-suggestions/", {"period_start": "2027-04-01", "period_end": "2027-03-31"})
    assert bad.status_code == 400 and "period_end" in bad.json()
