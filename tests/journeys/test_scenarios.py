"""Territory planning, as a manager does it: copy the live territories into a scenario, give a rep more capacity and
weight, move the minimise-disruption slider, run the balancer, read the comparison, apply after confirming, and see
the accounts moved."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from insights.models import AccountPotential
from territories.models import Membership, OwnershipChange, Scenario

from ..factories import AccountFactory, MembershipFactory, UserFactory
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"scenario-{name}.png"), full_page=True)


@pytest.fixture
def north(world):
    """North takes the accounts in the United States; Nina North owns its eight, Sam Second (a member with a capacity
    of 1) owns none."""
    world.north.criteria = [{"group": "", "attribute": "country", "operator": "eq", "value": "United States"}]
    world.north.save(update_fields=["criteria"])
    world.north_rep.first_name, world.north_rep.last_name = "Nina", "North"
    world.north_rep.save(update_fields=["first_name", "last_name"])
    second = UserFactory(username="sam", first_name="Sam", last_name="Second", role="rep")
    MembershipFactory(user=second, territory=world.north, max_accounts=1)
    accounts = []
    for n in range(1, 9):
        account = AccountFactory(name=f"Acme {n}", territory=world.north, owner=world.north_rep)
        AccountPotential.objects.create(
            account=account, win_probability=0.2, deal_size=10_000 * n, expected_value=1_000 * n, band="b",
            computed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )  # fmt: skip
        accounts.append(account)
    return accounts, second


def test_a_manager_plans_balances_and_applies_a_scenario(page, live_server, world, north):
    accounts, second = north
    log_in(page, live_server, "manager")
    page.click("nav >> text=Territories")
    page.click("text=Planning scenarios")
    expect(page.locator("h1")).to_have_text("Planning scenarios")
    expect(page.locator("#no-scenarios")).to_be_visible()

    # A name is needed: the page says so beside the field.
    page.click("button:has-text('Copy the live territories')")
    expect(page.locator("#scenario-new")).to_contain_text("Give the scenario a name.")
    page.fill("#id_name", "FY27 North")
    page.click("button:has-text('Copy the live territories')")
    expect(page.locator(".alert-success")).to_contain_text("Copied 2 territories into FY27 North")
    expect(page.locator("[data-territory]")).to_have_count(2)  # North and North-East: not the South
    shot(page, "1-copied")

    # Sam gets room for more accounts and twice Nina's share.
    page.locator("[data-territory=North] tr[data-member='Sam Second']").get_by_role("link", name="Edit").click()
    expect(page.locator("h1")).to_contain_text("Sam Second in North")
    page.fill("#id_max_accounts", "20")
    page.fill("#id_weight", "0")
    page.click("button:has-text('Save')")
    expect(page.locator("[data-error-for=weight]")).to_have_text("The weight must be more than 0.")
    expect(page.locator("#id_max_accounts")).to_have_value("20")  # what was typed is kept
    page.fill("#id_weight", "2")
    page.click("button:has-text('Save')")
    sam = page.locator("[data-territory=North] tr[data-member='Sam Second']")
    expect(sam).to_contain_text("20")
    expect(sam.locator("td").nth(4)).to_have_text("2")

    # The slider: balance nearly freely.
    page.fill("#id_disruption", "10")
    expect(page.locator("#disruption-value")).to_have_text("10")
    page.click("button:has-text('Save settings')")
    expect(page.locator(".alert-success")).to_contain_text("Saved the balancer settings")
    expect(page.locator("#id_disruption")).to_have_value("10")
    shot(page, "2-edited")
    scenario = Scenario.objects.get(name="FY27 North")
    assert scenario.disruption == 10
    # Nothing live changed.
    assert Membership.objects.get(user=second, territory=world.north).max_accounts == 1
    assert Account.objects.filter(owner=world.north_rep, pk__in=[a.pk for a in accounts]).count() == 8

    page.click("button:has-text('Run the balancer')")
    expect(page.locator("h1")).to_contain_text("FY27 North: live vs scenario vs round robin")
    expect(page.locator(".alert-success").first).to_contain_text("The balancer has answered")
    expect(page.locator("#balancer-status")).to_contain_text(re.compile("Optimal|Time limit reached"))
    nina = page.locator("#per-rep tr[data-rep='Nina North']")
    sam = page.locator("#per-rep tr[data-rep='Sam Second']")
    expect(nina).to_be_visible()
    expect(sam.locator("[data-col=count]")).not_to_have_text("0")
    expect(page.locator("#spread tr[data-plan=live]")).to_contain_text("no minimum (a rep has none)")  # Sam, live
    expect(page.locator("#per-rep")).to_contain_text("$36,000")  # Nina's live potential: 1,000 + ... + 8,000
    shot(page, "3-compare")
    scenario.refresh_from_db()
    moving = scenario.assignments.exclude(to_owner_id=world.north_rep.pk).filter(account__in=accounts).count()
    assert moving >= 4  # Sam's weight of 2 takes about two thirds of the potential

    page.click("text=Apply…")
    expect(page.locator("#apply-summary")).to_contain_text("0 territories change")
    expect(page.locator("#apply-summary")).to_contain_text("1 member added, changed or removed")
    changing = sum(
        (a.from_owner_id, a.from_territory_id) != (a.to_owner_id, a.to_territory_id) for a in scenario.assignments.all()
    )
    expect(page.locator("#apply-summary")).to_contain_text(f"{changing} accounts moved")
    shot(page, "4-confirm")
    page.click("button:has-text('Apply the scenario')")
    expect(page.locator("h1")).to_contain_text("applying scenario FY27 North")
    expect(page.get_by_text("Succeeded").first).to_be_visible()
    shot(page, "5-applied")

    page.goto(f"{live_server.url}/territories/{world.north.pk}/")
    expect(page.locator("body")).to_contain_text("Sam Second")
    shot(page, "6-board")
    assert Membership.objects.get(user=second, territory=world.north).max_accounts == 20
    moved = OwnershipChange.objects.filter(rule="Scenario FY27 North applied", to_owner=second)
    assert moved.count() >= 4
    assert Account.objects.filter(owner=second).count() == moved.count()

    # Applied once: the scenario says so, and offers no second apply.
    page.goto(f"{live_server.url}/territories/scenarios/{scenario.pk}/apply/")
    expect(page.locator("#apply-refused")).to_contain_text("already applied")
