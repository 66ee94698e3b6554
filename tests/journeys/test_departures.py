"""A rep leaves a territory, as a manager does it: they switch the member off on the member's page, read where the
rep's accounts and open handoff go, confirm, and find the accounts with the new owner; the new owner's queue shows
the handoff with the time it had left, not a fresh clock."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account
from handoffs.models import Handoff, SlaPolicy
from territories.models import Membership, OwnershipChange

from ..factories import AccountFactory, HandoffFactory, MembershipFactory, UserFactory
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"departure-{name}.png"), full_page=True)


def test_a_manager_hands_over_a_leaving_reps_accounts_and_the_handoff_keeps_its_clock(page, live_server, world):
    leaver = world.north_rep
    leaver.first_name, leaver.last_name = "Lee", "Ver"
    leaver.save()
    taker = UserFactory(username="taker", first_name="Tara", last_name="Ker", role="rep")
    MembershipFactory(user=taker, territory=world.north, weight=2)
    accounts = [world.north_account] + [
        AccountFactory(name=f"Leaver {i}", territory=world.north, owner=leaver) for i in range(3)
    ]
    SlaPolicy.objects.update_or_create(tier="tier_2", defaults={"accept_within_hours": 8, "calendar": "24x7"})
    due = (timezone.now() + dt.timedelta(hours=5)).replace(microsecond=0)
    handoff = HandoffFactory(
        account=accounts[0], owner=leaver, accept_due_at=due, assigned_at=timezone.now() - dt.timedelta(hours=1)
    )

    log_in(page, live_server, "manager")
    page.click("nav >> text=Territories")
    page.get_by_role("link", name="North", exact=True).click()
    page.locator("#members tr", has_text="Lee Ver").locator("text=Edit").click()
    page.uncheck("#id_is_active")
    page.click("button:has-text('Save')")

    # Saved inactive while owning accounts: the page goes straight to where they would go.
    expect(page.locator("h1")).to_have_text("Hand over Lee Ver's accounts in North")
    expect(page.locator("#departure-reason")).to_contain_text("Lee Ver left North")
    expect(page.locator("#departure-counts tbody")).to_contain_text("Tara Ker")
    expect(page.locator("#departure-counts tfoot")).to_contain_text("4")
    handoffs = page.locator("#departure-handoffs tbody tr")
    expect(handoffs).to_have_count(1)
    expect(handoffs.first).to_contain_text("North account")
    expect(handoffs.first).to_contain_text(due.strftime("%H:%M"))
    assert Account.objects.filter(owner=leaver).count() == 4  # nothing moved before the confirm
    shot(page, "1-preview")

    page.click("#departure-confirm")
    expect(page.locator(".alert-success, .alert-info").first).to_be_visible()
    assert Account.objects.filter(owner=leaver).count() == 0
    assert set(Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("owner", flat=True)) == {taker.pk}
    assert OwnershipChange.objects.filter(rule="Lee Ver left North", to_owner=taker).count() == 4
    handoff = Handoff.objects.get(pk=handoff.pk)
    assert handoff.owner_id == taker.pk and handoff.accept_due_at == due  # the clock is not reset
    assert not Membership.objects.get(user=leaver, territory=world.north).is_active
    shot(page, "2-handed-over")

    # The new owner finds it in their queue with the hours it had left.
    page.click("text=Log out")
    log_in(page, live_server, "taker")
    page.goto(f"{live_server.url}/queue/")
    row = page.locator(".card", has_text="North account")
    expect(row).to_contain_text("5 hours left")  # the 5 hours it had, not a fresh 8-hour clock
    shot(page, "3-new-owners-queue")
