"""A RevOps admin recalibrates the scoring from closed deals through the page: sets the tier mix the draft should
cut, runs it, reads the regression's and the proposed points' held-out AUC side by side, the proposed model (a
penalty among the criteria, signal rules, thresholds, the tier mix reached) and what was left out and why; is told
of a mix that does not add up, with what was typed kept; runs it again on unchanged data and is pointed to the same
draft; opens the draft."""

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from core.models import Job
from insights.recalibration.planted import planted_create
from segmentation.models import ScoringModel

from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_recalibrates_to_a_tier_mix_and_gets_a_complete_draft(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    planted_create(deals=1_200, seed=11)
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/scoring/recalibration/")
    expect(page.locator("h1")).to_have_text("Recalibration")
    expect(page.get_by_text("No recalibration yet")).to_be_visible()

    # A mix that does not add up is refused, and the shares typed stay.
    page.fill("#id_tier_1", "5")
    page.fill("#id_tier_2", "15")
    page.fill("#id_tier_3", "30")
    page.fill("#id_recycle", "45")
    page.click("button:has-text('Run recalibration')")
    expect(page.locator("form .alert-danger")).to_contain_text("add up to 95%, not 100%")
    expect(page.locator("#id_tier_1")).to_have_value("5")
    expect(page.locator("#id_recycle")).to_have_value("45")
    assert not Job.objects.filter(kind=Job.Kind.RECALIBRATE).exists()

    page.fill("#id_recycle", "50")
    page.click("button:has-text('Run recalibration')")
    expect(page.locator(".alert-success").last).to_contain_text("The model predicts wins")
    job = Job.objects.get(kind=Job.Kind.RECALIBRATE)
    report = job.result
    assert job.params["target_mix"] == [5.0, 15.0, 30.0, 50.0]
    assert report["target_mix"] == [5.0, 15.0, 30.0, 50.0]
    expect(page.locator("[data-figure=auc]")).to_have_text(f"{report['auc']:.3f}")
    expect(page.locator("[data-figure=points-auc]")).to_have_text(f"{report['points_auc']:.3f}")
    assert abs(report["points_auc"] - report["auc"]) <= 0.02

    # The proposal in words: a penalty, the signal rules, the thresholds, the mix reached beside the target.
    criteria = page.locator("[data-table=proposed-criteria]")
    expect(criteria).to_contain_text("Lead source is paid_ads")
    expect(criteria.locator(".text-danger").first).to_be_visible()  # a penalty, in negative points
    expect(page.locator("[data-table=proposed-signals]")).to_contain_text("Pricing page")
    mix = page.locator("[data-table=tier-mix] tbody tr")
    expect(mix.first).to_contain_text("5.0%")
    achieved = report["achieved_mix"]
    expect(mix.first.locator("td").last).to_have_text(f"{achieved[0]:.1f}%")
    expect(page.locator("[data-table=left-out]")).to_contain_text("an identifier: it names one account")
    expect(page.locator("[data-figure=population]")).to_contain_text(
        f"all {Account.objects.count():,} accounts, scored as of now"
    )
    page.screenshot(path=str(SHOTS / "recalibration-1-report.png"), full_page=True)
    page.screenshot(path=str(SHOTS / "recalibration-1-top.png"))

    draft = ScoringModel.objects.get(pk=report["proposal"]["model_id"])
    assert draft.is_draft
    assert draft.tier1_enter == report["proposal"]["settings"]["tier1_enter"]
    assert any(c["points"] < 0 for c in draft.icp.criteria)

    # Again, on the same data and settings: the same draft.
    page.click("button:has-text('Run recalibration')")
    expect(page.locator(".alert-success").last).to_contain_text(f"its draft v{draft.version} still stands")
    assert ScoringModel.objects.filter(status=ScoringModel.Status.DRAFT).count() == 1

    page.click(f"a:has-text('Review draft v{draft.version}')")
    expect(page.locator("h1")).to_contain_text(f"v{draft.version}")
    page.screenshot(path=str(SHOTS / "recalibration-2-draft.png"), full_page=True)
