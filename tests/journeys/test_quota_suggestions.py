"""Quota planning, as a manager does it: from the territory board to the quotas, opens the suggestion for next
quarter (the method stated, each territory and rep pre-filled), changes one rep's amount, is told of a mistake
without losing what was typed, saves, and sees the territory and rep quotas on the quotas page."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from insights.models import AccountPotential
from territories.models import Quota, RepQuota
from territories.quota_suggestions import next_quarter, quota_suggestion

from ..factories import AccountFactory, MembershipFactory, OpportunityFactory, UserFactory
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"quota-suggestions-{name}.png"), full_page=True)


def potential(account, value):
    AccountPotential.objects.create(
        account=account,
        win_probability=0.2,
        deal_size=value * 5,
        expected_value=value,
        band="60-80",
        computed_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )


def test_a_manager_plans_next_quarters_quotas(page, live_server, world):
    start, end = next_quarter()
    noor = UserFactory(username="north_rep2", first_name="Noor", last_name="Second", role="rep")
    MembershipFactory(user=noor, territory=world.north)
    potential(world.north_account, 400_000)
    potential(AccountFactory(name="Noor's account", territory=world.north, owner=noor), 100_000)
    potential(world.north_east_account, 200_000)
    potential(world.south_account, 300_000)
    OpportunityFactory(account=world.north_account, amount=150_000, closed_on=start - dt.timedelta(days=30))
    expected = quota_suggestion(user=world.manager, period_start=start, period_end=end)
    north = next(line for line in expected.territories if line.territory == world.north)
    suggested = {rep.user.username: rep.suggested for rep in north.reps}

    log_in(page, live_server, "manager")
    page.click("nav >> text=Territories")
    page.click("a:has-text('Quotas')")
    expect(page.locator("h1")).to_have_text("Quotas")
    page.click("text=Plan quotas from spend potential")
    expect(page.locator("h1")).to_have_text("Plan quotas")
    expect(page.locator("#id_period_start")).to_have_value(start.isoformat())
    expect(page.locator("#id_period_end")).to_have_value(end.isoformat())
    method = page.locator("#quota-method")
    expect(method).to_contain_text("21.4% of spend potential a year: $150,000 won")
    expect(method).to_contain_text("Territory quota = attainment rate × the territory's spend potential")
    expect(method).to_contain_text("Rep quota = the territory quota × the rep's share")
    table = page.locator("#quota-plan-table")
    expect(table).to_contain_text("North-East")
    expect(table).not_to_contain_text("South")  # not the manager's
    territory_input = page.locator(f"input[name=territory-{world.north.pk}]")
    noor_input = page.locator(f"input[name=rep-{world.north.pk}-{noor.pk}]")
    rep_input = page.locator(f"input[name=rep-{world.north.pk}-{world.north_rep.pk}]")
    expect(territory_input).to_have_value(str(north.suggested))
    expect(rep_input).to_have_value(str(suggested["north_rep"]))
    expect(noor_input).to_have_value(str(suggested["north_rep2"]))
    expect(page.locator("tr[data-rep='Noor Second'] [data-suggested]")).to_have_text(f"${suggested['north_rep2']:,.0f}")
    shot(page, "1-suggested")

    # A slip: nothing is saved, the message sits beside the amount, and every amount typed stays.
    noor_input.fill("-5")
    rep_input.fill("21000")
    page.click("button:has-text('Save quotas')")
    expect(page.locator(".alert-danger")).to_contain_text("Nothing was saved")
    expect(page.locator("tr[data-rep='Noor Second'] .invalid-feedback")).to_have_text("A quota is an amount above 0.")
    expect(noor_input).to_have_value("-5")
    expect(rep_input).to_have_value("21000")
    assert not Quota.objects.exists() and not RepQuota.objects.exists()
    shot(page, "2-refused")

    noor_input.fill("7500")
    page.click("button:has-text('Save quotas')")
    expect(page.locator("h1")).to_have_text("Quotas")
    expect(page.locator(".alert-success")).to_contain_text(
        f"Saved 2 territory quotas and 3 rep quotas for {start:%Y-%m-%d} to {end:%Y-%m-%d}."
    )
    quotas = page.locator("#quotas")
    expect(quotas).to_contain_text(f"${north.suggested:,.0f}")
    reps = page.locator("#rep-quotas")
    expect(reps.locator("tr", has_text="Noor Second")).to_contain_text("$7,500")
    expect(reps.locator("tr", has_text="Noor Second")).to_contain_text("North")
    expect(reps.locator("tr", has_text=world.north_rep.get_full_name())).to_contain_text("$21,000")
    shot(page, "3-saved")

    assert Quota.objects.get(territory=world.north).amount == north.suggested
    saved = {(q.user.username, q.period_start, q.period_end): q.amount for q in RepQuota.objects.select_related("user")}
    assert saved[("north_rep2", start, end)] == 7500 and saved[("north_rep", start, end)] == 21000
    assert all(q.updated_by == world.manager for q in RepQuota.objects.all())
