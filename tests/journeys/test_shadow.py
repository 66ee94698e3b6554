"""A RevOps admin runs a draft in shadow from its page, reads the comparison with the active version (reached from
the KPI dashboard), promotes it, is asked to confirm, and after confirming the draft is the active version."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from segmentation import services
from segmentation.models import ScoringModel, ShadowScore

from ..factories import AccountFactory, OpportunityFactory, ScoringModelFactory
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def trial(world):
    """An active version, a draft of it that weighs signals more, and 40 accounts with a deal closed last week."""
    for i in range(40):
        account = AccountFactory(
            name=f"Prospect {i}", industry="Software" if i % 3 else "Retail", employee_count=300 + 100 * i
        )
        OpportunityFactory(account=account, is_won=i % 4 != 0, stage="Closed", closed_on=dt.date.today())
    live = ScoringModelFactory()
    services.model_publish(model=live, user=None)  # eager: scored on commit
    live.refresh_from_db()
    draft = services.model_draft_create(
        user=world.admin, based_on=live, name="Signal-heavy", w_fit=0.4, w_signal=0.5, w_coverage=0.1
    )
    return live, draft


def test_an_admin_runs_a_draft_in_shadow_compares_it_and_promotes_it(page, live_server, trial):
    SHOTS.mkdir(parents=True, exist_ok=True)
    live, draft = trial
    log_in(page, live_server, "admin")

    page.goto(f"{live_server.url}/scoring/models/{draft.pk}/")
    page.click("button:has-text('Run in shadow')")
    expect(page.locator(".alert-success")).to_contain_text(f"v{draft.version} runs in shadow")
    expect(page.locator("#shadow-badge")).to_have_text("In shadow")
    expect(page.locator("#shadow-note")).to_contain_text("without changing any tier, MQA or handoff")
    page.screenshot(path=str(SHOTS / "shadow-1-started.png"), full_page=True)
    assert ShadowScore.objects.filter(model=draft).count() == 45  # its first pass: every account

    # The scoring page and the KPI dashboard both lead to the comparison.
    page.goto(f"{live_server.url}/scoring/")
    expect(page.locator("#shadow-link")).to_contain_text(f"v{draft.version} runs in shadow")
    page.goto(f"{live_server.url}/kpis/")
    page.click("a:has-text('Shadow comparison')")
    expect(page.locator("h1")).to_have_text("Active version and shadow version")
    bands = page.locator("#shadow-bands")
    expect(bands).to_contain_text(f"Active (v{live.version})")
    expect(bands).to_contain_text(f"In shadow (v{draft.version})")
    expect(page.locator("#shadow-sample")).to_contain_text("n = 40 accounts with a closed deal: 30 won, 10 lost")
    expect(page.locator("#shadow-auc")).to_contain_text("AUC 95% interval")
    page.screenshot(path=str(SHOTS / "shadow-2-comparison.png"), full_page=True)

    page.click("a:has-text('Promote the shadow model')")
    expect(page.locator("h1")).to_have_text(f"Promote Signal-heavy v{draft.version}?")
    expect(page.locator("#promote-what")).to_contain_text(f"v{live.version} stops being the active version")
    expect(page.locator("#promote-tiers")).to_be_visible()
    page.screenshot(path=str(SHOTS / "shadow-3-confirm.png"), full_page=True)
    draft.refresh_from_db()
    assert draft.is_draft and draft.in_shadow  # nothing changes until it is confirmed

    page.click(f"button:has-text('Yes, publish v{draft.version}')")
    expect(page.locator(".alert-success")).to_contain_text(f"v{draft.version} is active")
    expect(page.locator("h1 .badge").first).to_have_text("Active")
    expect(page.locator("#shadow-badge")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "shadow-4-active.png"), full_page=True)
    draft.refresh_from_db()
    assert draft.status == ScoringModel.Status.ACTIVE and not draft.in_shadow
