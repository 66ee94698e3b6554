"""An admin changes an ICP's criteria, a territory's rules and an SLA policy, then reads the audit trail: each entry
says what kind of thing changed (ICP, Territory, SLA policy), who changed it by name, and what changed in words
(criteria as sentences, territories and people by name, working days by name). Reps and managers are refused the
page. And an account scored for the first time shows its placement ("Placed in Tier 2") in its tier history."""

import re

import pytest
from django.test import RequestFactory
from playwright.sync_api import expect
from simple_history.models import HistoricalRecords

from accounts.models import Account
from handoffs.sla_policies import sla_policy_save
from segmentation import services
from territories.services import territory_update
from tests.factories import ICPFactory, ScoringModelFactory, SlaPolicyFactory

from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def as_user(user) -> None:
    """Changes made from here on are recorded as `user`'s (as the pages' request middleware records them)."""
    request = RequestFactory().get("/")
    request.user = user
    HistoricalRecords.context.request = request


@pytest.fixture
def acting_as():
    yield as_user
    if hasattr(HistoricalRecords.context, "request"):
        del HistoricalRecords.context.request


def row(page, kind: str, name: str, action: str = "Changed"):
    """The audit trail's row of a change to `kind` `name`."""
    entries = page.locator("#audit-entries tbody tr.audit-entry")
    return (
        entries.filter(has=page.locator(".audit-kind", has_text=kind))
        .filter(has=page.locator(".audit-name", has_text=name))
        .filter(has=page.locator(".audit-action", has_text=action))
    )


def test_an_admin_reads_who_changed_what_in_words(page, live_server, world, acting_as):
    SHOTS.mkdir(parents=True, exist_ok=True)
    admin_name = world.admin.get_full_name()
    icp = ICPFactory(
        name="Mid-market SaaS",
        criteria=[{"group": "Size", "attribute": "employee_count", "operator": "gte", "value": 500, "points": 20}],
    )
    acting_as(world.admin)
    long_note = "Finance and operations buyers at software companies with a product-led motion. " * 4
    services.icp_update(
        icp=icp,
        user=world.admin,
        values={
            "description": long_note,
            "criteria": [
                {
                    "group": "Size",
                    "attribute": "employee_count",
                    "operator": "between",
                    "value": [1000, 10000],
                    "points": 25,
                },
                {
                    "group": "Stack",
                    "attribute": "technologies",
                    "operator": "contains",
                    "value": "Snowflake",
                    "points": 10,
                },
            ],  # fmt: skip
        },
    )
    territory_update(
        territory=world.north_east,
        values={
            "parent": world.south,
            "criteria": [
                {"attribute": "annual_revenue", "operator": "gte", "value": 1_500_000},
                {"attribute": "country", "operator": "in", "value": ["canada", "united states"]},
            ],
        },  # fmt: skip
    )
    policy = SlaPolicyFactory(tier="tier_1")  # the migration's policy, unless an earlier test flushed the tables
    policy.working_days, policy.accept_within_hours, policy.breach_action = [0, 1, 2, 3], 8, "recycle"
    sla_policy_save(policy=policy, user=world.admin)

    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("h1")).to_have_text("Audit trail")

    icp_row = row(page, "ICP", "Mid-market SaaS")
    expect(icp_row).to_have_count(1)
    expect(icp_row.locator(".audit-who")).to_have_text(admin_name)
    fields = icp_row.locator(".audit-fields")
    expect(fields).to_contain_text("Fit criteria")
    expect(fields.locator(".audit-removed")).to_have_text(["Removed: Size: Employees ≥ 500 (+20 points)"])
    expect(fields.locator(".audit-added")).to_have_text(
        [
            "Added: Size: Employees between 1,000 and 10,000 (+25 points)",
            "Added: Stack: Technologies include Snowflake (+10 points)",
        ]
    )
    expect(fields).to_contain_text(long_note.strip())  # whole, not cut
    page.screenshot(path=str(SHOTS / "audit-1-trail.png"), full_page=True)

    territory_row = row(page, "Territory", "North-East")
    expect(territory_row).to_have_count(1)
    expect(territory_row.locator(".audit-who")).to_have_text(admin_name)
    territory_fields = territory_row.locator(".audit-fields")
    expect(territory_fields).to_contain_text(re.compile(r"Parent:\s*North\s*→\s*South"))
    expect(territory_fields.locator(".audit-added")).to_have_text(
        ["Added: Annual revenue ≥ $1.5M", "Added: Country is one of Canada, United States"]
    )

    policy_row = row(page, "SLA policy", "Tier 1")
    expect(policy_row).to_have_count(1)
    policy_fields = policy_row.locator(".audit-fields")
    expect(policy_fields.locator(".audit-removed")).to_have_text(["Removed: Friday"])
    expect(policy_fields).to_contain_text(re.compile(r"Accept within \(hours\):\s*\d+\s*→\s*8"))
    expect(policy_fields).to_contain_text(re.compile(r"Breach action:.*→\s*Recycle the account"))
    for text in ("employee_count", "annual_revenue", "working_days", "[0, 1", "{'", "..."):
        expect(page.locator("#audit-entries")).not_to_contain_text(text)

    # Only the territories: the ICP and the policy are filtered out.
    page.select_option("select[name=kind]", "Territory")
    page.click("button:has-text('Show')")
    expect(page.locator(".audit-kind")).not_to_have_count(0)
    kinds = page.locator(".audit-kind").all_inner_texts()
    assert set(kinds) == {"Territory"}
    page.screenshot(path=str(SHOTS / "audit-2-territories.png"), full_page=True)


@pytest.mark.parametrize("username", ["rep", "manager"])
def test_reps_and_managers_are_refused_the_audit_trail(page, live_server, world, username):
    log_in(page, live_server, username)
    expect(page.locator("a.dropdown-item", has_text="Audit")).to_have_count(0)
    response = page.goto(f"{live_server.url}/audit/")
    assert response.status == 403
    expect(page.locator("#audit-entries")).to_have_count(0)
    assert all("403" in problem for problem in page.problems), page.problems
    page.problems.clear()  # refused on purpose: the 403 is what the journey checks


def test_an_account_page_shows_its_first_placement(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    Account.objects.filter(pk=world.north_account.pk).update(employee_count=60)
    icp = ICPFactory(
        criteria=[
            {"group": "Size", "attribute": "employee_count", "operator": "gte", "value": n, "points": n}
            for n in range(0, 101, 10)
        ]
    )
    model = ScoringModelFactory(icp=icp, w_fit=1.0, w_signal=0.0, w_coverage=0.0)
    services.model_publish(model=model, user=world.admin)  # the first scoring: every account is placed

    log_in(page, live_server, "north_rep")
    page.goto(f"{live_server.url}/accounts/{world.north_account.pk}/")
    history = page.locator("#tier-changes")
    expect(history).to_contain_text("Placed in Tier 2")
    expect(history).to_contain_text("Tier 2: unified 60 ≥ 55 and fit 60 ≥ 50")
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text("No tier moves yet")
    history.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "audit-3-first-placement.png"), full_page=True)
