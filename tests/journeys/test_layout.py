"""The pages hold together on a laptop (1366x768) and a phone (390x844): the page never gets wider than the screen
(a wide table scrolls inside its own box), no header cell of a table runs into its neighbour, the menu folds behind
its button on the phone, and the form fields stay on the screen. A missing page is the site's own, styled page, and
the icon loads."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from insights.snapshots import kpi_snapshot_take

from ..factories import (
    AccountFactory,
    AccountScoreFactory,
    ContactFactory,
    HandoffFactory,
    OpportunityFactory,
    ScoringModelFactory,
    SignalFactory,
)
from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

# What is wrong with the page as laid out: the document wider than the window, header cells of a table overlapping
# (or their text running past their edge), a form control past the right edge of the window.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width) {
    problems.push(`page is ${document.documentElement.scrollWidth}px wide in a ${width}px window`);
  }
  document.querySelectorAll("main table").forEach((table, t) => {
    const cells = Array.from(table.querySelectorAll("thead th, thead td")).filter((c) => c.offsetWidth > 0);
    for (let i = 0; i + 1 < cells.length; i++) {
      const a = cells[i].getBoundingClientRect(), b = cells[i + 1].getBoundingClientRect();
      if (Math.abs(a.top - b.top) < 1 && a.right > b.left + 1) {
        problems.push(`table ${t}: "${cells[i].innerText}" overlaps "${cells[i + 1].innerText}"`);
      }
    }
    cells.forEach((c) => {
      if (c.scrollWidth > c.clientWidth + 1) problems.push(`table ${t}: "${c.innerText}" runs past its cell`);
    });
    const box = table.parentElement.getBoundingClientRect(), own = table.getBoundingClientRect();
    const scrolls = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
    if (own.right > box.right + 1 && !scrolls(table) && !scrolls(table.parentElement)) {
      problems.push(`table ${t} sticks out of its box by ${Math.round(own.right - box.right)}px`);
    }
  });
  // Tables side by side (in grid columns) must not run into each other: each as seen through its scrolling boxes.
  const seen = (el) => {
    let r = el.getBoundingClientRect(), box = { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX === "visible") continue;
      const c = up.getBoundingClientRect();
      box = { left: Math.max(box.left, c.left), right: Math.min(box.right, c.right), top: Math.max(box.top, c.top),
              bottom: Math.min(box.bottom, c.bottom) };
    }
    return box;
  };
  const tables = Array.from(document.querySelectorAll("main table")).filter((t) => t.offsetWidth > 0).map(seen);
  tables.forEach((a, i) => tables.slice(i + 1).forEach((b, j) => {
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 1 && h > 1) problems.push(`tables ${i} and ${i + j + 1} overlap by ${Math.round(w)}px`);
  }));
  document.querySelectorAll("main form input:not([type=hidden]), main form select, main form button").forEach((el) => {
    const r = el.getBoundingClientRect();
    if (r.width && !el.closest("table") && r.right > width + 1) problems.push(`form field ${el.name || el.innerText} past the edge`);
  });
  return problems;
}"""


@pytest.fixture
def busy(world):
    """Scores, long names, contacts, signals, deals, handoffs and a KPI snapshot: every main page has rows."""
    model = ScoringModelFactory(status="active")
    world.rep.first_name, world.rep.last_name = "Maximilian-Alexander", "Papadopoulos-Whitfield"
    world.rep.save(update_fields=["first_name", "last_name"])
    long_one = AccountFactory(
        name="Consolidated International Holdings and Manufacturing Company of North America",
        industry="telecommunications equipment and services",
        territory=world.north,
        owner=world.rep,
        country="United States of America",
        annual_revenue=12_345_678_901,
        employee_count=123_456,
    )
    for account, unified, tier in (
        (world.owned_by_rep, 72.5, "tier_2"),
        (long_one, 91.0, "tier_1"),
        (world.north_account, 33.0, "tier_3"),
        (world.north_east_account, 85.0, "tier_1"),
        (world.south_account, 12.0, "recycle"),
    ):
        AccountScoreFactory(account=account, model=model, unified=unified, tier=tier)
    for account in (long_one, world.owned_by_rep):
        contact = ContactFactory(
            account=account, name="Maximiliana Papadopoulou-Fitzgerald", title="Chief Financial Officer"
        )
        for days in (1, 5, 30):
            SignalFactory(account=account, contact=contact, kind="content_download", topic="security",
                          occurred_at=timezone.now() - dt.timedelta(days=days))  # fmt: skip
        OpportunityFactory(account=account, name="Enterprise platform renewal, three years", amount=250_000,
                           closed_on=dt.date(2026, 3, 1), owner=world.rep)  # fmt: skip
        HandoffFactory(account=account, owner=world.rep, territory=world.north, tier="tier_1")
        late = timezone.now() - dt.timedelta(days=3)  # settled: breached, so the SLA tables have figures
        HandoffFactory(account=account, owner=world.rep, territory=world.north, tier="tier_2", assigned_at=late,
                       breached_at=late + dt.timedelta(hours=4), status="expired", mqa__status="closed")  # fmt: skip
    kpi_snapshot_take()
    return world


PAGES = {
    "rep": ["/", "/accounts/", "account", "/tiers/", "/queue/", "/kpis/"],
    "manager": ["/", "/accounts/", "account", "/tiers/", "/territories/", "territory", "/handoffs/", "/kpis/"],
    "admin": ["/", "/accounts/", "account", "/tiers/", "/territories/", "/kpis/", "/scoring/", "/jobs/"],
}


def address(path: str, world) -> str:
    if path == "account":
        return f"/accounts/{world.owned_by_rep.pk}/"
    if path == "territory":
        return f"/territories/{world.north.pk}/"
    return path


@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_fit_a_laptop_and_a_phone(page, live_server, busy, role):
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live_server, role)
    found = {}
    for size in (LAPTOP, PHONE):
        page.set_viewport_size(size)
        for path in PAGES[role]:
            response = page.goto(live_server.url + address(path, busy))
            assert response.status == 200, path
            page.wait_for_load_state("networkidle")
            problems = page.evaluate(LAYOUT_PROBLEMS)
            if problems:
                found[f"{size['width']}px {path}"] = problems
            if path in ("/accounts/", "account", "/kpis/"):
                name = path.strip("/") or "home"
                page.screenshot(path=str(SHOTS / f"layout-{role}-{size['width']}-{name}.png"), full_page=True)
    assert not found, found


def test_the_menu_folds_on_a_phone_and_forms_stack(page, live_server, busy):
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "manager")
    toggler = page.locator("button.navbar-toggler")
    expect(toggler).to_be_visible()
    accounts = page.locator("nav a.nav-link", has_text="Accounts")
    expect(accounts).to_be_hidden()
    toggler.click()
    expect(accounts).to_be_visible()
    accounts.click()
    page.wait_for_url("**/accounts/")
    # The filter form's fields stack: each starts at the same left edge, one under the other, within the screen.
    fields = page.locator("main form select, main form input[type=search], main form input[type=text]")
    boxes = [fields.nth(i).bounding_box() for i in range(fields.count())]
    boxes = [b for b in boxes if b and b["width"]]
    assert len(boxes) >= 2
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] for b in boxes)
    assert len({round(b["y"]) for b in boxes}) == len(boxes)  # one per line
    # The account table scrolls inside its box: sideways, the page does not move.
    table_box = page.locator("main table").first.evaluate(
        "t => { const s = t.closest('.table-container, .table-responsive') || t;"
        " return [getComputedStyle(s).overflowX, s.scrollWidth > s.clientWidth] }"
    )
    assert table_box[0] in ("auto", "scroll")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "layout-phone-accounts-menu.png"), full_page=True)


def test_a_missing_page_is_styled_and_the_icon_loads(page, live_server, world):
    log_in(page, live_server, "rep")
    for size in (LAPTOP, PHONE):
        page.set_viewport_size(size)
        response = page.goto(f"{live_server.url}/accounts/no-such-page/")
        assert response.status == 404
        expect(page.locator("nav .navbar-brand")).to_have_text("RevOps scoring")
        expect(page.locator("h1")).to_have_text("Page not found")
        # Styled by the site's own CSS: Bootstrap's dark bar, the card around the message.
        assert page.locator("nav").evaluate("n => getComputedStyle(n).backgroundColor") == "rgb(33, 37, 41)"
        assert page.locator(".error-card").evaluate("c => getComputedStyle(c).maxWidth") != "none"
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        page.screenshot(path=str(SHOTS / f"layout-404-{size['width']}.png"), full_page=True)
    # The page's own 404 is the only thing the browser reported: no refused style or script, no other failure.
    assert page.problems and all("404" in p for p in page.problems), page.problems
    page.problems.clear()
    icon = page.locator("link[rel=icon]").get_attribute("href")
    answer = page.request.get(live_server.url + icon)
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    ico = page.request.get(f"{live_server.url}/favicon.ico")
    assert ico.status == 200 and ico.headers["content-type"].startswith("image/svg+xml")
    page.goto(f"{live_server.url}/")
    assert page.evaluate("fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)") == 200
