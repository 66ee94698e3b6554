"""Under the Content-Security-Policy (core/csp.py) the pages work: the select-all box and the confirm before applying
an assignment behave as their old inline handlers did, and Chromium reports no refusal on the main pages."""

import pytest

from core.models import Job

from ..factories import AccountFactory, HandoffFactory
from .steps import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_for_problems(page) -> list[str]:
    """Script errors and CSP refusals ("Refused to execute inline script ...") show as console errors."""
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")  # no favicon
            else None
        ),
    )
    return problems


@pytest.fixture
def routed(world):
    """North takes United States accounts; two of its accounts have no owner, so the board and the preview have work."""
    world.north.criteria = [{"attribute": "country", "operator": "eq", "value": "United States"}]
    world.north.save(update_fields=["criteria"])
    world.north_account.owner = None
    world.north_account.save(update_fields=["owner"])
    AccountFactory(name="Second unassigned", territory=world.north)
    AccountFactory(name="Owned", territory=world.north, owner=world.north_rep)
    world.north_rep.memberships.update(max_accounts=4)  # a load bar (data-progress-width) on the board: 1 of 4
    return world


def test_select_all_and_confirm_work_without_inline_code(page, live_server, routed):
    problems = watch_for_problems(page)
    log_in(page, live_server, "manager")

    page.goto(f"{live_server.url}/territories/{routed.north.pk}/")
    boxes = page.locator("input[name=account_ids]")
    assert boxes.count() == 2
    master = page.locator("input[data-select-all]")
    master.check()
    assert [box.is_checked() for box in boxes.all()] == [True, True]
    master.uncheck()
    assert [box.is_checked() for box in boxes.all()] == [False, False]
    assert page.locator(".progress-bar").evaluate("bar => [bar.style.width, bar.textContent]") == ["25%", "25%"]

    page.goto(f"{live_server.url}/territories/assignment/")
    page.click("#prepare-preview")
    apply = page.locator("button:has-text('Apply these')")
    question = f"Move {apply.inner_text().split()[2]} accounts now?"
    questions = []

    def answer(dialog, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    apply.click()
    assert questions == [question]
    assert page.url == f"{live_server.url}/territories/assignment/"  # cancelled: nothing was sent
    assert not Job.objects.filter(kind="assign").exists()

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    apply.click()
    page.wait_for_url("**/jobs/*/")
    assert questions == [question, question]
    assert Job.objects.filter(kind="assign").count() == 1
    assert not problems, problems


def test_main_pages_raise_no_policy_violation(page, live_server, routed):
    HandoffFactory(account=AccountFactory(name="Queued", territory=routed.north, owner=routed.north_rep))
    problems = watch_for_problems(page)
    pages = {
        "manager": [
            "/accounts/",
            f"/accounts/{routed.north_account.pk}/",
            f"/territories/{routed.north.pk}/",
            "/tiers/",
            "/api/docs/",
        ],
        "north_rep": ["/queue/"],
    }
    for username, urls in pages.items():
        log_in(page, live_server, username)
        for url in urls:
            response = page.goto(f"{live_server.url}{url}")
            assert response.status == 200, url
            assert response.headers["content-security-policy"].startswith("default-src 'self';"), url
            if url == "/api/docs/":  # Swagger UI ran its init script (from /api/docs/?script) and read the schema
                page.wait_for_selector("#swagger-ui .opblock")
            page.wait_for_load_state("networkidle")
            assert not problems, (url, problems)
        page.context.clear_cookies()
    assert "Queued" in page.inner_text("body")
