"""Holidays in an SLA clock, in the browser: an admin names the country whose public holidays do not count and a
closed date on a tier's policy page (a mistyped date is refused beside its field and kept), saves, and reads the
clock in words; a handoff made the day before the closed date and Christmas is due after them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from handoffs.models import Handoff, SlaPolicy
from handoffs.services import handoffs_create
from tests.factories import MQAFactory

from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_YORK = ZoneInfo("America/New_York")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"sla-holidays-{name}.png"), full_page=True)


def test_an_admin_closes_the_clock_on_holidays_and_a_handoff_is_due_after_them(page, live_server, world):
    SlaPolicy.objects.update_or_create(  # the migration's default policy, or the same again after a flush
        tier="tier_1",
        defaults={
            "accept_within_hours": 8, "calendar": "business_hours", "time_zone": "America/New_York",
            "working_days": [0, 1, 2, 3, 4], "start_hour": 9, "end_hour": 17, "holiday_country": "",
            "holiday_subdivision": "", "closed_dates": [],
        },
    )  # fmt: skip
    log_in(page, live_server, "admin")
    page.click("nav >> text=Territories")
    page.click("text=SLA policies")
    row = page.locator("#sla-policies tbody tr", has_text="Tier 1")
    expect(row).to_contain_text("no holidays or closed dates")
    row.locator("text=Edit").click()

    page.fill("#id_holiday_country", "US")
    page.fill("#id_closed_dates", "2026-12-24\n24.12.2026")
    page.click("button:has-text('Save policy')")
    expect(page.locator("#id_closed_dates ~ .text-danger")).to_have_text(
        "Line 2: “24.12.2026” is not a date: write it as YYYY-MM-DD, e.g. 2026-12-24."
    )
    expect(page.locator("#id_holiday_country")).to_have_value("US")  # what was typed is kept
    expect(page.locator("#id_closed_dates")).to_have_value("2026-12-24\n24.12.2026")
    shot(page, "1-bad-date")
    assert SlaPolicy.objects.get(tier="tier_1").closed_dates == []

    page.fill("#id_closed_dates", "2026-12-24")
    page.click("button:has-text('Save policy')")
    words = (
        "8 business hours (Mon–Fri 09:00–17:00 America/New_York, except public holidays in United States "
        "and 1 closed date)"
    )
    expect(page.locator(".alert-success")).to_contain_text(f"accept within {words}")
    expect(row).to_contain_text("Public holidays in United States and 1 closed date")
    shot(page, "2-saved")
    policy = SlaPolicy.objects.get(tier="tier_1")
    assert (policy.holiday_country, policy.holiday_subdivision, policy.closed_dates) == ("US", "", ["2026-12-24"])

    # Wednesday 23 December, 16:00 in New York: one hour that day; Thursday is closed, Friday is Christmas Day.
    made = dt.datetime(2026, 12, 23, 16, tzinfo=NEW_YORK)
    handoffs_create([MQAFactory(account=world.north_account, tier="tier_1").pk], now=made)
    handoff = Handoff.objects.get(account=world.north_account)
    assert handoff.accept_due_at == dt.datetime(2026, 12, 28, 16, tzinfo=NEW_YORK)

    due = "Due Monday 28 December 2026, 16:00 America/New_York (21:00 UTC)"
    page.click("nav >> text=Handoffs")
    listed = page.locator(f"tr[data-handoff-id='{handoff.pk}']")
    expect(listed.locator("time.countdown")).to_have_attribute("title", due)
    shot(page, "3-handoff-list")
    listed.locator(".handoff-detail-link").click()
    expect(page.locator("dl", has_text="Clock")).to_contain_text(words)
    timer = page.locator("time.countdown")
    expect(timer).to_have_attribute("title", due)
    expect(timer.locator(".countdown-due")).to_contain_text("Mon")
    shot(page, "4-handoff-due-after-christmas")
