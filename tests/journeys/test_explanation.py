"""A rep opens one of their accounts and reads why it scores what it does: each fit group with the criterion it
matched in words, each signal kind with its count, decay and cap, the buying group by persona, the tier's reason,
and each signal's points, which add up to the signal part."""

import pytest
from playwright.sync_api import expect

from accounts.models import Contact
from segmentation.models import AccountScore
from segmentation.services import model_publish
from tests.factories import AccountFactory, ContactFactory, ScoringModelFactory, SignalFactory

from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_reads_why_an_account_scores_what_it_does(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    globex = AccountFactory(
        name="Globex", territory=world.north, owner=world.north_rep, industry="software", employee_count=850,
        country="United States",
    )  # fmt: skip
    buyer = ContactFactory(account=globex, name="Ada Byers", persona=Contact.Persona.ECONOMIC_BUYER)
    SignalFactory(account=globex, kind="meeting", contact=buyer)
    SignalFactory(account=globex, kind="web_visit")
    SignalFactory(account=globex, kind="web_visit")
    model_publish(model=ScoringModelFactory(name="Fit and intent"), user=world.admin)
    score = AccountScore.objects.get(account=globex)

    log_in(page, live_server, "north_rep")
    page.click("nav >> text=Accounts")
    page.click("table >> text=Globex")
    page.wait_for_url(f"**/accounts/{globex.pk}/")
    card = page.locator("#score")
    expect(card).to_contain_text(f"{score.unified:g}")
    explanation = page.locator("#explanation")
    expect(explanation).to_contain_text("Industry is one of Software, Fintech (+30)")
    expect(explanation).to_contain_text("Size: Employees between 200 and 2,000 (+40)")
    expect(explanation).to_contain_text("Geo: Country is United States (+30)")
    expect(explanation).to_contain_text("Meeting ×1")
    expect(explanation).to_contain_text("Web visit ×2")
    expect(explanation).to_contain_text("Buying group: 1 of 3 required personas engaged")
    expect(explanation).to_contain_text("(Economic buyer)")
    for code in ("web_visit", "economic_buyer", "employee_count", " eq ", "tier_"):
        assert code not in card.inner_text(), code

    page.click("summary:has-text('Points by group and signal kind')")
    kinds = card.locator("table").nth(1)
    expect(kinds.locator("tr", has_text="Meeting")).to_be_visible()
    expect(page.locator("#personas-missing")).to_have_text("Personas not engaged: Champion, Technical evaluator.")
    page.screenshot(path=str(SHOTS / "explanation-1-score.png"), full_page=True)

    # Each signal's points, as listed, add up to the signal part's counted points (no kind is capped here).
    rows = page.locator("#signals tbody tr")
    expect(rows).to_have_count(3)
    assert {rows.nth(i).locator("td").nth(1).inner_text() for i in range(3)} == {"Meeting", "Web visit"}
    listed = sum(float(rows.nth(i).locator("td").last.inner_text()) for i in range(3))
    counted = sum(float(kinds.locator("tbody tr").nth(i).locator("td").last.inner_text()) for i in range(2))
    assert abs(listed - counted) < 0.02
    expect(page.locator("#tier-history, table", has_text="Placed in")).not_to_have_count(0)
