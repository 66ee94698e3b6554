"""Intent topics in the browser: a rep filters their account list by a surging topic (offered only the topics of
their own accounts) and opens an account that shows its topics in words; an admin adds a "Surging topics" criterion
to the ICP with the criterion builder, publishes a new model version from the model pages, and the account's score
gives its points and names it."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Signal
from accounts.topics import topic_surges_refresh

from ..factories import AccountFactory, ICPFactory, ScoringModelFactory
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"topics-{name}.png"), full_page=True)


def burst(account, topic: str, recent: int, weekly_before: int = 0) -> None:
    now = timezone.now()
    times = [now - dt.timedelta(hours=2 + 7 * i) for i in range(recent)]
    for week in range(1, 9):
        times += [now - dt.timedelta(days=7 * week, hours=3 + 5 * i) for i in range(weekly_before)]
    Signal.objects.bulk_create(
        [Signal(account=account, kind="content_download", topic=topic, occurred_at=t) for t in times]
    )


@pytest.fixture
def surging(world):
    """CRM software surges on the North account (14 this week, 2 a week before), ERP is steady there; Payroll
    surges on the South account only, out of the North rep's sight."""
    other = AccountFactory(name="North quiet", territory=world.north, owner=world.north_rep)
    burst(world.north_account, "CRM software", 14, weekly_before=2)
    burst(world.north_account, "ERP", 3, weekly_before=3)
    burst(other, "ERP", 3, weekly_before=3)
    burst(world.south_account, "Payroll", 9)
    topic_surges_refresh()
    return world


def test_a_rep_filters_their_list_by_a_surging_topic_and_reads_an_accounts_topics(page, live_server, surging):
    log_in(page, live_server, "north_rep")
    page.goto(f"{live_server.url}/accounts/")
    picker = page.locator("select[name=surging_topic]")
    expect(picker.locator("option")).to_have_text(["Any surging topic", "CRM software"])  # not the South's Payroll
    picker.select_option(label="CRM software")
    page.click("button:has-text('Filter')")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("North account")
    expect(page.locator("#account-count")).to_contain_text("1")
    shot(page, "1-filtered")

    rows.first.get_by_role("link", name="North account").click()
    topics = page.locator("#topics li")
    expect(topics).to_have_count(2)
    expect(topics.first).to_contain_text("CRM software: 14 this week against 2 a week before (surging, z 12.0)")
    expect(topics.nth(1)).to_contain_text("ERP: 3 this week against 3 a week before (steady, z 0.0)")
    expect(page.locator("#topics-rule")).to_contain_text("A topic surges when its signals this week")
    shot(page, "2-account")


def test_an_admin_recomputes_topic_surges_from_the_account_list(page, live_server, world):
    """Signals arrived since the last computation: the admin recomputes from the account list, the job page says it
    succeeded, and the list's filter then offers the topics surging now, every territory's."""
    from accounts.models import TopicSurge

    burst(world.north_account, "CRM software", 14, weekly_before=2)
    burst(world.south_account, "Payroll", 9)
    assert not TopicSurge.objects.exists()
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/accounts/")
    picker = page.locator("select[name=surging_topic]")
    expect(picker.locator("option")).to_have_text(["Any surging topic"])  # nothing computed yet
    page.click("button:has-text('Refresh topic surges')")
    expect(page.locator(".job-status")).to_have_text("Succeeded")
    expect(page.locator("main")).to_contain_text("Topic surges are being recomputed")
    shot(page, "0-refreshed")
    page.goto(f"{live_server.url}/accounts/")
    expect(picker.locator("option")).to_have_text(["Any surging topic", "CRM software", "Payroll"])
    assert set(TopicSurge.objects.filter(surging=True).values_list("label", flat=True)) == {"CRM software", "Payroll"}


def test_an_admin_scores_surging_topics_through_the_model_pages(
    page, live_server, surging, django_capture_on_commit_callbacks
):
    from segmentation.models import AccountScore
    from segmentation.services import model_publish

    icp = ICPFactory(name="Enterprise")
    v1 = ScoringModelFactory(name="Standard", version=1, icp=icp)
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=v1, user=surging.admin)
    fits = dict(AccountScore.objects.values_list("account__name", "fit"))
    assert fits["North account"] == fits["North quiet"]  # the same firmographics

    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/scoring/icps/{icp.pk}/")
    rows = page.locator("[data-criteria-builder=criteria] tbody tr[data-criteria-row]")
    page.click("button:has-text('Add criterion')")
    new = rows.last
    new.locator("input[name$=-group]").fill("Intent")
    new.locator("select[name$=-attribute]").select_option(label="Surging topics")
    new.locator("select[name$=-operator]").select_option(label="contains")
    new.locator("input[name$=-value]").fill("CRM software")
    new.locator("input[name$=-points]").fill("25")
    shot(page, "3-criterion")
    page.click("button:has-text('Save ICP')")
    expect(page.locator(".alert-success")).to_contain_text("Saved Enterprise")
    icp.refresh_from_db()
    assert icp.criteria[-1] == {
        "group": "Intent",
        "attribute": "surging_topics",
        "operator": "contains",
        "value": "CRM software",
        "points": 25,
    }

    page.locator("nav").get_by_role("link", name="Scoring", exact=True).click()
    page.click("button:has-text('New draft from the active version (v1)')")
    expect(page.locator("h1")).to_have_text("Edit draft v2")
    page.click("button:has-text('Save draft')")
    expect(page.locator("#model-criteria")).to_contain_text("Surging topics include CRM software")
    page.click("text=Publish…")
    page.click("button:has-text('Yes, publish v2')")
    page.wait_for_url("**/jobs/*/")
    expect(page.locator(".job-status")).to_have_text("Succeeded")

    page.goto(f"{live_server.url}/accounts/{surging.north_account.pk}/")
    expect(page.locator("#explanation")).to_contain_text("Intent: Surging topics include CRM software (+25)")
    shot(page, "4-explained")
    fits = dict(AccountScore.objects.values_list("account__name", "fit"))
    assert fits["North account"] > fits["North quiet"]  # the topic's points, out of more points possible
    topic_criterion = len(icp.criteria) - 1
    assert topic_criterion in AccountScore.objects.get(account=surging.north_account).matched
    assert topic_criterion not in AccountScore.objects.get(account__name="North quiet").matched
