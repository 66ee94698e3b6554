"""Territory pages, as people use them: an admin carves a territory with rules (previewing what would match before
saving) and names accounts with the search picker; a manager edits a member of their territory and is refused
another's; an admin routes an account in no territory from the home page's count; a manager previews and applies an
assignment (people by full name) and reassigns an account, the picker offering only eligible reps and warning before
handing it to someone away."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account
from core.models import Job
from territories.models import AssignmentPreview, Membership, Territory
from territories.selectors import day_text

from ..factories import AccountFactory, MembershipFactory, UserFactory
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"territory-{name}.png"), full_page=True)


def add_rule(page, index: int, group: str, attribute: str, operator: str, value: str) -> None:
    page.click("[data-criteria-builder=rules] [data-criteria-add]")
    page.fill(f"input[name=rules-{index}-group]", group)
    page.select_option(f"select[name=rules-{index}-attribute]", attribute)
    page.select_option(f"select[name=rules-{index}-operator]", operator)
    page.fill(f"input[name=rules-{index}-value]", value)


def test_an_admin_carves_a_territory_with_rules_after_a_preview(page, live_server, world):
    AccountFactory(name="Globex", country="Germany", employee_count=5000)
    AccountFactory(name="Initech", country="germany", employee_count=800)
    AccountFactory(name="Umbrella", country="Austria", employee_count=20000)
    AccountFactory(name="Vandelay", country="France", employee_count=50)

    log_in(page, live_server, "admin")
    page.click("nav >> text=Territories")
    page.click("text=New territory")
    expect(page.locator("h1")).to_have_text("New territory")
    page.fill("#id_name", "DACH")
    page.select_option("#id_parent", label="North")
    page.fill("#id_priority", "20")
    page.select_option("#id_strategy", label="Load balanced")
    add_rule(page, 0, "Where", "country", "eq", "Germany")
    add_rule(page, 1, "Where", "country", "eq", "Austria")
    add_rule(page, 2, "", "employee_count", "gte", "1,000")
    shot(page, "1-new-form")

    page.click("button:has-text('Preview matches')")
    preview = page.locator("#rule-preview")
    expect(preview).to_contain_text("2 accounts would match")
    expect(preview).to_contain_text("For example: Globex, Umbrella")
    expect(preview).to_contain_text("Nothing is saved yet.")
    assert not Territory.objects.filter(name="DACH").exists()
    # What was typed is still there, ready to save.
    expect(page.locator("input[name=rules-1-value]")).to_have_value("Austria")
    expect(page.locator("#id_name")).to_have_value("DACH")
    shot(page, "2-preview")

    # A rule that reads nothing is refused with the reason, and what was typed stays.
    add_rule(page, 3, "", "employee_count", "between", "lots, more")
    page.click("button:has-text('Save territory')")
    expect(page.locator("[data-criteria-builder=rules]")).to_contain_text("Write numbers separated by commas")
    expect(page.locator("input[name=rules-3-value]")).to_have_value("lots, more")
    assert not Territory.objects.filter(name="DACH").exists()
    page.locator("[data-criteria-row]").nth(3).locator("[data-criteria-remove]").click()
    page.click("button:has-text('Save territory')")

    expect(page.locator("h1")).to_have_text("DACH")
    expect(page.locator(".alert-success")).to_contain_text("Saved DACH.")
    rules = page.locator("#territory-rules")
    expect(rules).to_contain_text("Country is Germany or Country is Austria")
    expect(rules).to_contain_text("Employees ≥ 1,000")
    shot(page, "3-saved")
    dach = Territory.objects.get(name="DACH")
    assert dach.criteria == [
        {"group": "Where", "attribute": "country", "operator": "eq", "value": "Germany"},
        {"group": "Where", "attribute": "country", "operator": "eq", "value": "Austria"},
        {"group": "", "attribute": "employee_count", "operator": "gte", "value": 1000},
    ]
    assert (dach.parent, dach.priority, dach.strategy) == (world.north, 20, "load_balanced")
    assert dach.history.get().history_user == world.admin

    page.click("nav >> text=Territories")
    card = page.locator(".card", has=page.get_by_role("link", name="DACH", exact=True))
    expect(card).to_contain_text("in North")
    expect(card).to_contain_text("priority 20 · Load balanced")


def test_an_admin_names_accounts_with_the_search_picker(page, live_server, world):
    AccountFactory(name="Umbrella Corp", domain="umbrella.example", country="France")
    AccountFactory(name="Umbrella Health", domain="umbrella-health.example", country="Spain")

    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/territories/{world.south.pk}/")
    page.click("text=Edit territory")
    expect(page.locator("[data-picker-empty]")).to_have_text("No named accounts.")
    page.fill("#account-search", "umbrel")
    results = page.locator("[data-picker-results] button")
    expect(results).to_have_count(2)
    expect(results.first).to_contain_text("Umbrella Corp")
    expect(results.first).to_contain_text("umbrella.example · in no territory")
    results.first.click()
    page.fill("#account-search", "health")
    expect(page.locator("[data-picker-results] button")).to_have_count(1)
    page.locator("[data-picker-results] button").first.click()
    chosen = page.locator("[data-picker-chosen] [data-picker-item]")
    expect(chosen).to_have_count(2)
    expect(page.locator("[data-picker-results] button").first).to_be_disabled()  # named already
    # Changed their mind about one: it may be added again from the results.
    page.click("[data-picker-chosen] button[aria-label='Remove Umbrella Health']")
    expect(chosen).to_have_count(1)
    expect(chosen.first).to_contain_text("Umbrella Corp umbrella.example")
    expect(page.locator("[data-picker-results] button").first).to_be_enabled()
    shot(page, "4-picker")

    page.click("button:has-text('Preview matches')")
    expect(page.locator("#rule-preview")).to_contain_text("1 account would match: the named account.")
    expect(page.locator("[data-picker-chosen]")).to_contain_text("Umbrella Corp")  # kept through the preview
    page.click("button:has-text('Save territory')")
    expect(page.locator("#territory-rules")).to_contain_text("1 named account.")
    south = Territory.objects.get(pk=world.south.pk)
    assert list(south.named_accounts.values_list("name", flat=True)) == ["Umbrella Corp"]
    assert "Named accounts: named Umbrella Corp" in south.history.values_list("history_change_reason", flat=True)
    shot(page, "5-named")


def test_a_search_that_fails_says_so_and_the_next_one_lists_again(page, live_server, world):
    AccountFactory(name="Umbrella Corp", domain="umbrella.example")
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/territories/{world.south.pk}/edit/")
    # The search answers an error once (a server restarting, a proxy timing out), then answers again.
    failures = []

    def fail_once(route):
        if not failures:
            failures.append(route.request.url)
            route.fulfill(status=502, body="Bad gateway")
        else:
            route.continue_()

    page.route("**/territories/accounts/search/**", fail_once)
    page.fill("#account-search", "umbrel")
    expect(page.locator("[data-picker-status]")).to_have_text("The search did not answer; try again.")
    expect(page.locator("[data-picker-results] button")).to_have_count(0)
    shot(page, "6-search-failed")
    assert len(failures) == 1
    # The made-up 502 is the only thing the browser reported.
    assert page.problems and all("502" in p for p in page.problems), page.problems
    page.problems.clear()
    page.fill("#account-search", "umbrella")
    expect(page.locator("[data-picker-results] button")).to_have_count(1)
    expect(page.locator("[data-picker-status]")).to_have_text("1 account found: Add names one here.")


def test_a_manager_edits_a_member_and_is_refused_another_territory(page, live_server, world):
    log_in(page, live_server, "manager")
    page.click("nav >> text=Territories")
    page.get_by_role("link", name="North", exact=True).click()
    row = page.locator("#members tr", has_text=world.north_rep.get_full_name())
    row.locator("text=Edit").click()
    expect(page.locator("h1")).to_have_text(f"{world.north_rep.get_full_name()} in North")
    expect(page.locator("#id_role")).to_have_count(0)  # only admins appoint managers
    page.fill("#id_max_accounts", "12")
    page.fill("#id_away_from", "2031-08-10")
    page.fill("#id_away_until", "2031-08-01")
    page.click("button:has-text('Save')")
    expect(page.locator(".invalid-feedback")).to_have_text("The return date is before the first day away.")
    expect(page.locator("#id_max_accounts")).to_have_value("12")
    page.fill("#id_away_until", "2031-08-20")
    page.click("button:has-text('Save')")
    expect(page.locator(".alert-success")).to_have_text(f"Saved {world.north_rep.get_full_name()} in North.")
    row = page.locator("#members tr", has_text=world.north_rep.get_full_name())
    expect(row).to_contain_text("10 Aug 2031 – 20 Aug 2031")
    expect(row.locator("td").nth(4)).to_have_text("12")
    shot(page, "6-member-edited")
    membership = world.north_rep.memberships.get()
    assert (membership.max_accounts, membership.away_from, membership.away_until) == (
        12, dt.date(2031, 8, 10), dt.date(2031, 8, 20)
    )  # fmt: skip

    # The South is another manager's: its member is not found, and territories are edited by admins only.
    south_member = world.other_rep.memberships.get()
    page.goto(f"{live_server.url}/territories/memberships/{south_member.pk}/edit/")
    expect(page.locator("body")).to_contain_text("Page not found")
    page.goto(f"{live_server.url}/territories/{world.south.pk}/edit/")
    expect(page.locator(".alert-danger")).to_contain_text("Your role does not give access to this page.")
    page.goto(f"{live_server.url}/territories/{world.north.pk}/edit/")
    expect(page.locator(".alert-danger")).to_contain_text("Your role does not give access to this page.")
    shot(page, "7-refused")
    answered = [p for p in page.problems if p.startswith("answered")]
    assert [re.sub(r"http://[^/]+", "", p) for p in answered] == [
        f"answered 404: /territories/memberships/{south_member.pk}/edit/",
        f"answered 403: /territories/{world.south.pk}/edit/",
        f"answered 403: /territories/{world.north.pk}/edit/",
    ]
    assert all(p.startswith(("answered", "console: Failed to load resource")) for p in page.problems)
    page.problems.clear()  # refused on purpose
    assert world.other_rep.memberships.get().max_accounts is None


def test_an_admin_routes_an_account_in_no_territory_from_the_home_count(page, live_server, world):
    log_in(page, live_server, "admin")
    page.click("#unrouted-link")
    expect(page.locator("h1")).to_contain_text("Accounts in no territory")
    expect(page.locator("#unrouted-count")).to_have_text("(1)")
    row = page.locator("#unrouted tbody tr", has_text="Unrouted account")
    # Sending without a territory says why and keeps the selection.
    row.locator("input[name=account_ids]").check()
    page.click("button:has-text('Send')")
    expect(page.locator(".alert-danger")).to_contain_text("Choose the territory to send the accounts to.")
    expect(page.locator("#unrouted tbody tr input[name=account_ids]").first).to_be_checked()
    page.select_option("#id_territory", label="North")
    shot(page, "8-unrouted")
    page.click("button:has-text('Send')")
    expect(page.get_by_role("alert").filter(has_text="Sent")).to_contain_text("Sent 1 account to North")
    expect(page.locator("main")).to_contain_text("Every account is in a territory.")
    shot(page, "9-routed")
    account = Account.objects.get(pk=world.unrouted_account.pk)
    assert (account.territory, account.owner) == (world.north, world.north_rep)
    assert list(world.north.named_accounts.all()) == [account]


def test_a_manager_assigns_and_reassigns_with_full_names_and_the_away_warning(page, live_server, world):
    Territory.objects.filter(pk=world.north.pk).update(
        criteria=[{"attribute": "country", "operator": "eq", "value": "United States"}]
    )
    Account.objects.filter(pk=world.north_account.pk).update(owner=None)
    today = timezone.localdate()
    ada = UserFactory(username="ada", first_name="Ada", last_name="Lovelace", role="rep")
    MembershipFactory(user=ada, territory=world.north, away_from=today, away_until=today + dt.timedelta(days=7))
    ben = UserFactory(username="ben", first_name="Ben", last_name="Franklin", role="rep")
    MembershipFactory(user=ben, territory=world.north, max_accounts=0)
    MembershipFactory(user=UserFactory(username="cy", first_name="Cy", last_name="Young", role="rep"),
                      territory=world.north, is_active=False)  # fmt: skip
    nora = world.north_rep.get_full_name()

    more = AccountFactory.create_batch(60, country="United States", territory=world.north)  # two pages of moves
    before = sorted(Account.objects.values_list("id", "owner_id", "territory_id"))

    log_in(page, live_server, "manager")
    page.click("nav >> text=Territories")
    page.get_by_role("link", name="North", exact=True).click()
    page.click("text=Preview assignment")
    expect(page.locator("#preview-empty")).to_contain_text("No preview yet")
    page.click("#prepare-preview")  # prepared as a job (run at once here), then read here
    expect(page.locator("#preview-summary")).to_contain_text(" would move")
    total = AssignmentPreview.objects.get(created_by=world.manager).move_count
    assert 60 < total < 100
    expect(page.locator("#preview-summary")).to_contain_text(f"{total} would move")
    expect(page.locator("#moves-range")).to_have_text(f"Moves 1 to 50 of {total}, in account order.")
    moves = page.locator("table", has_text="Why")
    row = moves.locator("tr", has_text="North account")
    expect(row).to_contain_text(f"— → {nora}")  # Ada is away and Ben at capacity: Nora is the one eligible
    counts = page.locator("table", has_text="Before")
    expect(counts).to_contain_text(nora)
    assert "north_rep" not in page.locator("main").inner_text()
    shot(page, "10-assignment-preview")
    page.click("#moves-pages >> text=next")
    expect(page.locator("#moves-range")).to_have_text(f"Moves 51 to {total} of {total}, in account order.")
    expect(page.locator("#moves tbody tr")).to_have_count(total - 50)
    shown = [row.split("\t")[0] for row in page.locator("#moves tbody tr").all_inner_texts()]
    assert shown == [a.name for a in sorted(more, key=lambda a: a.pk)[50 - total :]]  # the last, in account order
    expect(page.locator("#moves tbody")).to_contain_text(f"— → {nora}")
    shot(page, "10b-assignment-preview-page-2")
    page.click("#moves-pages >> text=first")
    expect(page.locator("#moves-range")).to_have_text(f"Moves 1 to 50 of {total}, in account order.")
    assert sorted(Account.objects.values_list("id", "owner_id", "territory_id")) == before  # nothing moved yet
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Apply these')")
    expect(page.locator(".job-status")).to_have_text("Succeeded")
    job = Job.objects.get(kind="assign")
    assert job.created_by == world.manager
    assert Account.objects.get(pk=world.north_account.pk).owner == world.north_rep
    assert set(Account.objects.filter(pk__in=[a.pk for a in more]).values_list("owner", flat=True)) == {
        world.north_rep.pk
    }

    page.goto(f"{live_server.url}/accounts/{world.north_account.pk}/")
    picker = page.locator("select[name=owner]")
    back = day_text(today + dt.timedelta(days=7))
    eligible = sorted([f"Ada Lovelace (away until {back})", "Ben Franklin (at capacity: 0 of 0)", nora])
    assert picker.locator("option").all_inner_texts() == ["— nobody —", *eligible]  # by name; not the manager, nor
    # Cy, who is no longer active in North
    picker.select_option(label=f"Ada Lovelace (away until {back})")
    page.click("button:has-text('Reassign')")
    warning = page.locator("#owner-warning")
    expect(warning).to_contain_text(f"Ada Lovelace is away until {back}.")
    shot(page, "11-away-warning")
    assert Account.objects.get(pk=world.north_account.pk).owner == world.north_rep  # not before it is confirmed
    page.click("text=Give to Ada Lovelace anyway")
    expect(page.locator("h1")).to_contain_text("North account")
    expect(page.locator("main")).to_contain_text("Gave 1 account to Ada Lovelace.")
    expect(page.locator("main")).to_contain_text(re.compile(r"Owner:\s*Ada Lovelace"))
    shot(page, "12-reassigned")
    assert Account.objects.get(pk=world.north_account.pk).owner == ada
    assert Membership.objects.filter(territory=world.north, user=ada).exists()


def test_an_admin_reads_the_territories_a_page_at_a_time_and_opens_a_board(page, live_server, world):
    from territories.views import TERRITORIES_PER_PAGE

    from ..factories import TerritoryFactory

    for i in range(TERRITORIES_PER_PAGE):
        TerritoryFactory(name=f"Zone {i:02d}", parent=world.south, priority=200 + i)
    log_in(page, live_server, "admin")
    page.click("nav >> text=Territories")
    north = page.locator(".card", has=page.get_by_role("link", name="North", exact=True))
    expect(north.locator("[data-members]")).to_contain_text(f"Manager (1): {world.manager.get_full_name()}")
    expect(north.locator("[data-members]")).to_contain_text(f"Rep (1): {world.north_rep.get_full_name()}")
    expect(page.locator("#territory-pages")).to_contain_text(f"Page 1 of 2 ({TERRITORIES_PER_PAGE + 3} territories)")
    expect(page.locator(".card")).to_have_count(TERRITORIES_PER_PAGE)
    shot(page, "list")
    page.locator("#territory-pages").get_by_role("link", name="Next").click()
    expect(page.locator("#territory-pages")).to_contain_text("Page 2 of 2")
    last = page.locator(".card").last
    expect(last).to_contain_text("in South")
    expect(last).to_contain_text("No members yet.")
    last.get_by_role("link", name="Members' capacity, load and rotation on the board").click()
    expect(page.locator("h1")).to_contain_text("Zone")
