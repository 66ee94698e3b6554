"""A rep opens their accounts, best score first; picks an industry and a tier from the pick lists; sorts by name one
way then the other (the arrows follow); exports the list and finds in the file the page's columns and order. An admin
finds the accounts that have no territory."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory, AccountScoreFactory, ScoringModelFactory

from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def first_cells(page) -> list[str]:
    return page.locator("table tbody tr td:first-child").all_inner_texts()


def headers(page) -> list[str]:
    return [text.replace("▲", "").replace("▼", "").strip() for text in page.locator("table thead th").all_inner_texts()]


@pytest.fixture
def accounts(world):
    world.north_rep.first_name, world.north_rep.last_name = "Nora", "Northcott"
    world.north_rep.save()
    model = ScoringModelFactory()
    made = {}
    for name, unified, tier, industry, country, revenue in (
        ("Globex", 91.5, "tier_1", "Software", "France", 2_500_000),
        ("Initech", 84.0, "tier_1", "Software", "Germany", 900_000),
        ("Hooli", 78.0, "tier_1", "Media", "United States", 12_000_000),
        ("Umbrella", 61.0, "tier_2", "Software", "Spain", None),
        ("Vandelay", 35.0, "recycle", "Retail", "Italy", 50_000),
    ):
        account = AccountFactory(
            name=name, territory=world.north, owner=world.north_rep, industry=industry, country=country,
            annual_revenue=revenue,
        )  # fmt: skip
        AccountScoreFactory(account=account, model=model, unified=unified, fit=unified - 5, signal=40.0, tier=tier)
        made[name] = account
    world.south_account.industry = "Mining"  # not this rep's: never offered to them
    world.south_account.save()
    return made


def test_a_rep_filters_sorts_and_exports_their_accounts(page, live_server, world, accounts):
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live_server, "north_rep")
    page.click("nav >> text=Accounts")

    # Best score first, by default: the scored accounts, then the two not scored yet, by name.
    expect(page.locator("#score-sort-note")).to_contain_text("Sorted by score, best first")
    assert first_cells(page) == ["Globex", "Initech", "Hooli", "Umbrella", "Vandelay", "North account", "Owned by rep"]
    score = page.locator("thead th[data-column=unified]")
    expect(score).to_contain_text("▼")
    expect(score).to_have_attribute("aria-sort", "descending")
    page.screenshot(path=str(SHOTS / "account-list-1-by-score.png"), full_page=True)

    # Pick lists of what this rep's accounts hold.
    industries = page.locator("select[name=industry] option").all_inner_texts()
    assert industries == ["Any industry", "Media", "Retail", "Software"]  # "software" of the world's accounts too
    assert "Mining" not in industries
    page.select_option("select[name=industry]", "Software")
    page.select_option("select[name=tier]", "tier_1")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**/accounts/?*industry=Software*")
    assert first_cells(page) == ["Globex", "Initech"]
    expect(page.locator("#account-count")).to_have_text("(2)")
    expect(page.locator("#score-sort-note")).to_have_text("Sorted by score, best first.")
    expect(page.locator("select[name=industry]")).to_have_value("Software")
    page.screenshot(path=str(SHOTS / "account-list-2-filtered.png"), full_page=True)

    # Sort by name, one way then the other: the arrow says which.
    page.select_option("select[name=tier]", "")
    page.click("button:has-text('Filter')")
    assert first_cells(page) == ["Globex", "Initech", "Umbrella", "North account", "Owned by rep"]
    page.click("thead >> text=Name")
    name = page.locator("thead th[data-column=name]")
    expect(name).to_contain_text("▲")
    assert first_cells(page) == ["Globex", "Initech", "North account", "Owned by rep", "Umbrella"]
    expect(page.locator("thead th[data-column=unified]")).not_to_contain_text("▼")
    page.click("thead >> text=Name")
    expect(name).to_contain_text("▼")
    expect(name).to_have_attribute("aria-sort", "descending")
    assert first_cells(page) == ["Umbrella", "Owned by rep", "North account", "Initech", "Globex"]
    assert "sort=-name" in page.url
    page.screenshot(path=str(SHOTS / "account-list-3-name-descending.png"), full_page=True)

    # The export: the page's columns first, in the same order, then fit and signal; the page's rows in its order.
    shown_headers = headers(page)
    shown_rows = [row.locator("td").all_inner_texts() for row in page.locator("table tbody tr").all()]
    with page.expect_download() as download_info:
        page.click("text=Export CSV")
    download = download_info.value
    assert download.suggested_filename == "accounts.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    assert [h.removesuffix(" (USD)") for h in header[: len(shown_headers)]] == shown_headers
    assert header[len(shown_headers) : len(shown_headers) + 2] == ["Fit", "Signal"]
    assert [r[0] for r in body] == [r[0] for r in shown_rows]
    assert [r[0] for r in body] == ["Umbrella", "Owned by rep", "North account", "Initech", "Globex"]
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    globex = by_name["Globex"]
    assert (globex["Tier"], globex["Score"], globex["Fit"], globex["Signal"]) == ("Tier 1", "91.5", "86.5", "40.0")
    assert (globex["Owner"], globex["Territory"], globex["Industry"]) == ("Nora Northcott", "North", "Software")
    assert globex["Annual revenue (USD)"] == "2500000"
    for shown, exported in zip(shown_rows, body, strict=True):  # the words of the page, cell by cell
        blank = {"—": ""}
        assert [blank.get(shown[i], shown[i]) for i in (1, 2, 4, 5, 8, 9)] == [exported[i] for i in (1, 2, 4, 5, 8, 9)]
    assert page.locator("thead th[data-column=annual_revenue]").inner_text().startswith("Annual revenue")
    assert "$2.5M" in page.locator("table tbody").inner_text()


def test_an_admin_finds_the_accounts_without_a_territory(page, live_server, world):
    log_in(page, live_server, "admin")
    page.click("nav >> text=Accounts")
    page.select_option("select[name=territory]", label="No territory")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**/accounts/?*territory=none*")
    assert first_cells(page) == ["Unrouted account"]
    expect(page.locator("#account-count")).to_have_text("(1)")
    expect(page.locator("select[name=territory]")).to_have_value("none")
    page.screenshot(path=str(SHOTS / "account-list-4-no-territory.png"), full_page=True)


def test_a_manager_is_not_offered_no_territory(page, live_server, world):
    log_in(page, live_server, "manager")
    page.click("nav >> text=Accounts")
    assert "No territory" not in page.locator("select[name=territory] option").all_inner_texts()


def test_a_rep_reads_an_account_score_first_and_all_its_opportunities(page, live_server, world, accounts):
    import datetime as dt

    from tests.factories import OpportunityFactory

    globex = accounts["Globex"]
    for i in range(12):
        OpportunityFactory(account=globex, external_id=f"OPP-{i:02d}", product="GTX Pro", amount=25_000 + i,
                           closed_on=dt.date(2025, 1, 1 + i), owner=world.north_rep)  # fmt: skip
    log_in(page, live_server, "north_rep")
    page.click("nav >> text=Accounts")
    page.click("text=Globex")
    page.wait_for_url(f"**/accounts/{globex.pk}/")
    score, company = page.locator("#score").bounding_box(), page.locator("#company").bounding_box()
    assert score["y"] < company["y"]  # the score card at the top
    expect(page.locator("#score")).to_contain_text("91.5")
    expect(page.locator("#opportunities tbody tr")).to_have_count(10)
    expect(page.locator("#opportunities")).to_contain_text("$25K")
    page.screenshot(path=str(SHOTS / "account-page-1-score-first.png"), full_page=True)
    page.click("text=All 12 opportunities")
    page.wait_for_url(f"**/accounts/{globex.pk}/opportunities/")
    expect(page.locator("#opportunities tbody tr")).to_have_count(12)
    expect(page.locator("#opportunities tbody tr").first).to_contain_text("OPP-11")
    expect(page.locator("#opportunities tbody tr").first).to_contain_text("Nora Northcott")
    page.screenshot(path=str(SHOTS / "account-page-2-opportunities.png"), full_page=True)


def test_an_admin_picks_an_owner_by_name_and_a_territory_from_the_pick_lists(page, live_server, world, accounts):
    """The owner and territory pick lists name people and territories (read as values, not objects): an admin picks
    the rep by full name and the territory by name and sees that rep's accounts there, the choices kept."""
    log_in(page, live_server, "admin")
    page.click("nav >> text=Accounts")
    owners = page.locator("select[name=owner] option").all_inner_texts()
    assert owners[:3] == ["Any owner", "Me", "Unassigned"] and "Nora Northcott" in owners
    page.select_option("select[name=owner]", label="Nora Northcott")
    page.select_option("select[name=territory]", label="North")
    page.click("button:has-text('Filter')")
    page.wait_for_url(f"**/accounts/?*owner={world.north_rep.pk}*")
    assert first_cells(page) == ["Globex", "Initech", "Hooli", "Umbrella", "Vandelay", "North account"]
    expect(page.locator("select[name=owner]")).to_have_value(str(world.north_rep.pk))
    expect(page.locator("select[name=territory]")).to_have_value(str(world.north.pk))
    page.screenshot(path=str(SHOTS / "account-list-5-owner-and-territory.png"), full_page=True)
