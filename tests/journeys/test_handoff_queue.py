"""A rep works their queue: two handoffs with ticking SLA countdowns, one rejected with a reason, the other accepted,
without leaving the page; their manager then sees both outcomes in the handoff list."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from handoffs.models import Handoff, SlaPolicy

from ..factories import AccountFactory, HandoffFactory
from .steps import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_rejects_one_handoff_and_accepts_the_other_and_the_manager_sees_both(page, live_server, world):
    SlaPolicy.objects.update(calendar="24x7")  # plain hours, whatever the time of day the journey runs
    now = timezone.now()
    acme = HandoffFactory(
        account=AccountFactory(name="Acme Rockets", territory=world.north, owner=world.north_rep),
        tier="tier_1",
        accept_due_at=now + dt.timedelta(hours=2),
    )
    globex = HandoffFactory(
        account=AccountFactory(name="Globex", territory=world.north, owner=world.north_rep),
        accept_due_at=now + dt.timedelta(hours=5),
    )
    HandoffFactory(account=world.south_account)  # another rep's: never on this queue
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # Script errors and refusals (e.g. a content security policy's) show as console errors; a missing favicon too.
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )

    page.clock.install()  # the page's timers run when the test says, so the countdown can be seen to tick
    log_in(page, live_server, "north_rep")
    page.click("nav >> text=Queue")
    page.wait_for_url(f"{live_server.url}/queue/")
    assert page.locator("article.handoff .handoff-account").all_inner_texts() == ["Acme Rockets", "Globex"]
    assert "South account" not in page.content()
    acme_card = page.locator(f"article[data-handoff-id='{acme.pk}']")
    globex_card = page.locator(f"article[data-handoff-id='{globex.pk}']")
    countdown = acme_card.locator("time.countdown")
    # A 24x7 clock: plain hours, the due time in the policy's time zone (UTC).
    assert re.fullmatch(r"2 hours left · due \w{3} \d\d:\d\d", countdown.inner_text()), countdown.inner_text()
    assert globex_card.locator("time.countdown .countdown-left").inner_text() == "5 hours left"
    # The countdown ticks in the browser (static/js/handoffs.js): half an hour later, an hour and a half is left.
    page.clock.run_for(30 * 60 * 1000)
    assert countdown.locator(".countdown-left").inner_text() == "1 hour left"

    acme_card.locator("select[name=reason]").select_option("not_icp")
    acme_card.locator("button:has-text('Reject')").click()
    page.wait_for_selector("#queue-messages >> text=Rejected Acme Rockets (Not our ICP)")
    assert acme_card.count() == 0
    assert page.inner_text("#queue-count") == "1"

    globex_card.locator("button:has-text('Accept')").click()
    page.wait_for_selector("#queue-messages >> text=Accepted Globex")
    assert page.locator("article.handoff").count() == 0
    assert page.locator("#queue-empty").is_visible()
    assert page.url == f"{live_server.url}/queue/"  # never left the page
    assert not problems, problems

    decided = {h.account.name: h for h in Handoff.objects.filter(pk__in=[acme.pk, globex.pk]).select_related("account")}
    assert (decided["Acme Rockets"].status, decided["Acme Rockets"].reason) == ("rejected", "not_icp")
    assert decided["Globex"].status == "accepted"
    assert {h.decided_by_id for h in decided.values()} == {world.north_rep.pk}

    page.click("nav >> text=Log out")
    page.wait_for_url(f"{live_server.url}/login/")
    log_in(page, live_server, "manager")
    page.click("nav >> text=Handoffs")
    page.wait_for_url(f"{live_server.url}/handoffs/")
    acme_row = page.locator(f"tr[data-handoff-id='{acme.pk}']")
    globex_row = page.locator(f"tr[data-handoff-id='{globex.pk}']")
    assert acme_row.locator(".handoff-status").inner_text() == "Rejected"
    assert "Not our ICP" in acme_row.inner_text()
    assert globex_row.locator(".handoff-status").inner_text() == "Accepted"
    assert acme_row.locator("form.handoff-reassign").count() == 0  # decided: nothing to reassign
    assert "South account" not in page.content()
