"""Headless Chromium (Debian's package) driven by Playwright against the live test server."""

import contextlib
import os
from pathlib import Path

import pytest

from ..conftest import require
from .steps import SHOTS

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in the test's thread; the test only reads the database through
# the ORM between browser steps, never concurrently with it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    require(CHROMIUM.exists(), "needs Chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test, so the page fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, request):
    """A fresh browser tab. The journey fails on any uncaught script error, console error or failed request (a
    download the test awaits is not one), and a failed journey leaves a screenshot of its last page beside the
    report: .test-media/journeys/FAILED-<test>.png."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.on(
        "requestfailed",
        lambda r: (r.failure or "") != "net::ERR_ABORTED" and problems.append(f"failed: {r.url} {r.failure}"),
    )
    page.on("response", lambda r: r.status >= 400 and problems.append(f"answered {r.status}: {r.url}"))
    page.problems = problems  # a journey that opens a refused page on purpose reads and clears it
    in_flight: set = set()
    page.on("request", lambda r: in_flight.add(r))
    page.on("requestfinished", lambda r: in_flight.discard(r))
    page.on("requestfailed", lambda r: in_flight.discard(r))
    yield page
    # The requests the page still has in flight (a dashboard filling its cards after the journey read what it needed)
    # answered before the test's data is flushed: on SQLite the live server reads through the test's own in-memory
    # database, and a flush while it reads fails ("table is locked") and leaves the next tests a broken connection.
    for _ in range(100):
        if not in_flight or page.is_closed():
            break
        page.wait_for_timeout(100)
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SHOTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):  # a closed page has nothing to show; the failure itself is reported
            page.screenshot(path=str(SHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()
    assert not problems, "the browser reported: " + "; ".join(problems)
