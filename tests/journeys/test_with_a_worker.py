"""On PostgreSQL with a real Celery worker on Redis (nothing eager): an admin publishes the first scoring model from
the Scoring page and watches its job on the job page, queued, then finished by the worker; the accounts' pages then
show their scores explained and placed. The jobs every role starts run this way in production."""

import os
import subprocess
import sys
import uuid

import pytest
from playwright.sync_api import expect

from config.celery_app import app
from segmentation.models import AccountScore, TierChange
from segmentation.tiers import PLACED
from tests.factories import AccountFactory, ICPFactory, ScoringModelFactory

from ..conftest import require_postgres, require_redis
from ..workers import ROOT, database_url
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(monkeypatch):
    """A worker on a queue of its own, reading the test database; every task this test's server sends goes there."""
    require_postgres()
    require_redis()
    queue = f"journey-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url()}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", queue, "-l", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "task_default_queue", queue)
    yield queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_an_admin_publishes_and_the_worker_scores_every_account(page, live_server, world, worker):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for number, (industry, staff) in enumerate((("Software", 500), ("fintech", 5000), ("retail", 50))):
        AccountFactory(name=f"Acme {number + 1}", industry=industry, employee_count=staff, country="United States",
                       territory=world.north, owner=world.north_rep)  # fmt: skip
    ScoringModelFactory(name="Standard", version=1, icp=ICPFactory(name="Enterprise"))

    log_in(page, live_server, "admin")
    page.locator("nav").get_by_role("link", name="Scoring", exact=True).click()
    page.click("#version-1 >> text=v1")
    page.click("text=Publish…")
    expect(page.locator("h1")).to_have_text("Publish Standard v1?")
    page.click("button:has-text('Yes, publish v1')")
    page.wait_for_url("**/jobs/*/")
    # The page was answered before the worker finished; it follows the job until the worker is done.
    expect(page.locator(".job-status")).to_have_text("Succeeded", timeout=90_000)
    expect(page.locator(".progress-bar")).to_have_text("100%")
    page.screenshot(path=str(SHOTS / "worker-1-published.png"), full_page=True)
    scored = AccountScore.objects.count()
    assert scored == 8 and TierChange.objects.filter(from_tier=PLACED).count() == 8  # each placed once

    page.locator("nav").get_by_role("link", name="Accounts", exact=True).click()
    page.fill("input[name=q]", "Acme 2")
    page.click("button:has-text('Filter')")
    page.locator("table tbody a", has_text="Acme 2").click()
    expect(page.locator("#score .badge").first).to_have_text(
        AccountScore.objects.get(account__name="Acme 2").get_tier_display()
    )
    expect(page.locator("#explanation")).to_contain_text("Industry is one of Software, Fintech (+30)")
    expect(page.locator("table", has_text="Move")).to_contain_text("Placed in")
