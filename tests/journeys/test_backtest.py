"""A RevOps admin backtests a draft from its page: sees the default cutoff, types a bad one and is told why (what they
typed kept), runs it as of a date, watches a backtest's progress, and reads the draft beside the active version: AUC,
win rate by tier, lift, tier mix and MQA volume, the figures the job stored."""

import pytest
from playwright.sync_api import expect

from core.jobs import job_create, job_progress, job_start, job_succeed
from core.models import Job
from insights.recalibration.backtest import backtest_compute, backtest_job_latest, default_cutoff
from segmentation.models import ScoringModel
from tests.insights.test_backtest import COUNTRY_ACTIVE, CUTOFF, INDUSTRY_DRAFT, generate, version

from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def cell(page, row: str, column: int):
    return page.locator(f"#backtest-table tr[data-row='{row}'] td").nth(column)


def test_an_admin_backtests_a_draft_beside_the_active_version(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    generate(accounts=200, seed=13)
    active = version(criteria=COUNTRY_ACTIVE, status=ScoringModel.Status.ACTIVE)
    draft = version(criteria=INDUSTRY_DRAFT)
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/scoring/models/{draft.pk}/")
    panel = page.locator("#backtest")
    expect(panel.locator("#backtest-default")).to_have_text(f"{default_cutoff():%Y-%m-%d}")
    expect(panel).to_contain_text("No backtest yet.")

    # A cutoff that is not a date: told why, what was typed kept, nothing started.
    page.fill("#backtest-cutoff", "31/12/2024")
    page.click("button:has-text('Run backtest')")
    expect(panel.locator(".invalid-feedback")).to_have_text(
        "Write the cutoff as a date, YYYY-MM-DD (e.g. 2024-06-30); “31/12/2024” is not one."
    )
    expect(page.locator("#backtest-cutoff")).to_have_value("31/12/2024")
    panel.screenshot(path=str(SHOTS / "backtest-1-bad-cutoff.png"))
    assert backtest_job_latest(draft) is None

    # As of 2025-01-01 (tasks run at once here: the report is there when the page comes back).
    page.fill("#backtest-cutoff", "2025-01-01")
    page.click("button:has-text('Run backtest')")
    expect(page.locator(".alert").first).to_contain_text(f"Backtest of v{draft.version} started")
    job = backtest_job_latest(draft)
    assert job.status == Job.Status.SUCCEEDED, job.error
    report = job.result
    drafted, current = report["models"]
    expect(page.locator("#backtest-table thead")).to_contain_text(f"Draft v{draft.version} (this version)")
    expect(page.locator("#backtest-table thead")).to_contain_text(f"Active v{active.version}")
    expect(page.locator("#backtest-cutoff-used")).to_contain_text("Cutoff: 2025-01-01 (00:00 UTC; chosen)")
    expect(page.locator("#backtest-outcomes")).to_contain_text(
        f"Accounts with a deal closed after 2025-01-01: {report['outcomes']:,}, {report['won']:,} won and "
        f"{report['lost']:,} lost"
    )
    for column, side in enumerate((drafted, current)):
        expect(cell(page, "auc", column)).to_have_text(
            f"{side['auc']:.3f} ({side['auc_low']:.3f}–{side['auc_high']:.3f})"
        )
        tier_1 = side["win_rates"][0]
        if tier_1["accounts"]:
            expect(cell(page, "win-tier_1", column)).to_have_text(
                f"{tier_1['win_rate']:.1f}% ({tier_1['low']:.1f}–{tier_1['high']:.1f}%), "
                f"{tier_1['wins']:,} of {tier_1['accounts']:,} won"
            )
        top = side["lift"][0]
        expect(cell(page, "lift-1", column)).to_have_text(
            f"{top['lift']:.2f}× ({top['win_rate']:.1f}% won, mean score {top['mean_score']:.1f})"
        )
        for row in side["tier_mix"]:
            expect(cell(page, f"mix-{row['tier']}", column)).to_have_text(f"{row['share']:.1f}% ({row['accounts']:,})")
        expect(cell(page, "mqas", column)).to_have_text(f"{side['mqas']:,} ({side['mqa_share']:.1f}% of accounts)")
    expect(page.locator("#backtest-verdict")).to_have_text(report["comparison"])
    assert drafted["auc"] > current["auc"]
    expect(page.locator("#backtest-no-history")).to_contain_text(
        "Account attributes keep no history: Industry and Country are read as they are today"
    )
    page.locator("#backtest").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "backtest-2-report.png"), full_page=True)


def test_the_page_shows_a_running_backtest_and_its_report_when_it_is_done(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    generate(accounts=40, seed=3)
    draft = version(criteria=INDUSTRY_DRAFT)
    job = job_create(
        kind=Job.Kind.BACKTEST,
        created_by=world.admin,
        params={"model_id": draft.pk, "version": draft.version, "cutoff": CUTOFF.isoformat()},
        total=45,
    )
    job_start(job=job)
    job_progress(job=job, done=20, total=45)
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/scoring/models/{draft.pk}/")
    running = page.locator("#backtest-job")
    expect(running.locator(".job-status")).to_have_text("Running")
    expect(running.locator(".progress-bar")).to_have_text("44%")
    expect(running.locator(".job-count")).to_have_text("20 / 45")
    running.screenshot(path=str(SHOTS / "backtest-3-running.png"))

    job_succeed(job=job, result=backtest_compute(model=draft, cutoff=CUTOFF))  # the worker finishes it
    expect(page.locator("#backtest-verdict")).to_contain_text("Too few outcomes", timeout=10_000)  # reloaded
    expect(page.locator("#backtest-table tr[data-row='auc']")).to_have_count(0)
    expect(cell(page, "mqas", 0)).to_have_text(f"{job.result['models'][0]['mqas']:,} (0.0% of accounts)")
