"""Roll-ups, as people use them: a RevOps admin caps the signal points any one contact can add and scores groups by
the sum of their signals, on a new draft (a bad cap is refused with what was typed kept), and publishes it; a manager
opens a parent account and reads its own score beside its group's, the tiers of the subsidiaries in their territories
(the one outside is only counted), and the explanation naming the contact whose signals were capped."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Contact, Signal
from segmentation.models import AccountScore, ScoringModel
from segmentation.scoring import round1

from ..factories import AccountFactory, ICPFactory, ScoringModelFactory
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"rollups-{name}.png"), full_page=True)


def _world(world, django_capture_on_commit_callbacks):
    """Globex (North) with a noisy contact, Jane Doe: 10 web visits and 4 downloads a minute ago (44 points); John
    Roe had a meeting (15). Its subsidiaries: Globex UK (North) and Globex DE (South, outside the North manager's
    territories). v1 is active, without a cap."""
    from segmentation.services import model_publish

    moment = timezone.now() - dt.timedelta(minutes=1)
    parent = AccountFactory(name="Globex", territory=world.north, industry="Software", employee_count=800)
    jane = Contact.objects.create(account=parent, name="Jane Doe", email="jane@globex.example", persona="user")
    john = Contact.objects.create(account=parent, name="John Roe", email="john@globex.example", persona="champion")
    for kind, times, contact in (("web_visit", 10, jane), ("content_download", 4, jane), ("meeting", 1, john)):
        for _ in range(times):
            Signal.objects.create(account=parent, contact=contact, kind=kind, occurred_at=moment)
    uk = AccountFactory(name="Globex UK", territory=world.north, parent=parent, employee_count=300)
    Signal.objects.create(account=uk, kind="meeting", occurred_at=moment)
    de = AccountFactory(name="Globex DE", territory=world.south, parent=parent, employee_count=5000)
    for _ in range(3):
        Signal.objects.create(account=de, kind="event_attended", occurred_at=moment)
    v1 = ScoringModelFactory(name="Standard", version=1, icp=ICPFactory(name="Enterprise"))
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=v1, user=world.admin)
    return parent, uk, de


def test_an_admin_caps_contacts_and_a_manager_reads_the_group(
    page, live_server, world, django_capture_on_commit_callbacks
):
    parent, uk, de = _world(world, django_capture_on_commit_callbacks)
    assert AccountScore.objects.get(account=parent).signal == 59.0  # uncapped: 20 (web, its cap) + 24 + 15

    log_in(page, live_server, "admin")
    page.locator("nav").get_by_role("link", name="Scoring", exact=True).click()
    page.click("button:has-text('New draft from the active version (v1)')")
    expect(page.locator("h1")).to_have_text("Edit draft v2")
    page.get_by_label("Signal points per contact").fill("0")
    page.get_by_label("Group score").select_option(label="Sum of the group's signals")
    page.click("button:has-text('Save draft')")
    # Refused, with what was typed kept.
    expect(page.get_by_text("A contact's cap is a number of signal points above 0")).to_be_visible()
    expect(page.get_by_label("Signal points per contact")).to_have_value("0")
    expect(page.get_by_label("Group score").locator("option:checked")).to_have_text("Sum of the group's signals")
    shot(page, "1-refused")
    page.get_by_label("Signal points per contact").fill("15")
    page.click("button:has-text('Save draft')")
    expect(page.locator(".alert-success")).to_contain_text("Draft v2 saved")
    changes = page.locator("h2:has-text('Changes from v1') + ul")
    expect(changes).to_contain_text("Signal points per contact: no cap → 15")
    expect(changes).to_contain_text("Group score: Highest score in the group → Sum of the group's signals")
    settings = page.locator("#model-settings")
    expect(settings).to_contain_text("At most 15 points from any one contact's signals")
    expect(settings).to_contain_text("Sum of the group's signals")
    shot(page, "2-draft")
    page.click("text=Publish…")
    page.click("button:has-text('Yes, publish v2')")
    page.wait_for_url("**/jobs/*/")
    expect(page.locator(".job-status")).to_have_text("Succeeded")
    v2 = ScoringModel.objects.get(version=2)
    assert (v2.status, v2.contact_cap, v2.group_rollup) == ("active", 15, "sum_signals")
    page.click("text=Log out")

    # Jane's 44 points count 15, John's meeting 15: a signal of 30.
    own = AccountScore.objects.get(account=parent)
    assert (own.model_id, own.signal) == (v2.pk, 30.0)
    signals = sum(AccountScore.objects.filter(account__in=[parent, uk, de]).values_list("signal", flat=True))
    group = round1(0.6 * own.fit + 0.3 * min(100.0, signals) + 0.1 * 100 * own.coverage)

    log_in(page, live_server, "manager")
    page.locator("nav").get_by_role("link", name="Accounts", exact=True).click()
    page.get_by_role("link", name="Globex", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Globex")
    card = page.locator("#group")
    expect(card.locator("#group-own .display-6")).to_have_text(str(own.unified))
    expect(card.locator("#group-score")).to_contain_text("Group score (sum of the group's signals)")
    expect(card.locator("#group-score .display-6")).to_have_text(str(group))
    rows = card.locator("#group-children tbody tr")
    expect(rows).to_have_count(1)
    uk_score = AccountScore.objects.get(account=uk)
    expect(rows.first).to_contain_text("Globex UK")
    expect(rows.first).to_contain_text(uk_score.get_tier_display())
    expect(card.locator("#group-outside")).to_have_text("And 1 more outside your territories.")
    expect(page.locator("main")).not_to_contain_text("Globex DE")
    explanation = page.locator("#explanation")
    expect(explanation).to_contain_text(re.compile(r"Signals from Jane Doe capped at 15 points \(had 4[34](\.\d)?\)\."))
    expect(explanation).not_to_contain_text("John Roe")
    shot(page, "3-parent-account")
