"""A RevOps admin edits the ICP with the criterion builder (saves it unchanged, adds a criterion with the button,
removes one, is told of a bad value and keeps what was typed) and creates a new one; then edits a draft scoring
model, previews its impact, publishes it and watches the rescore finish; then restores the first version, and the
version history shows both its original publish and the restore."""

import pytest
from playwright.sync_api import expect

from segmentation.models import ICP
from tests.factories import ICPFactory

from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_edits_and_saves_the_icp_with_the_criterion_builder(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    icp = ICPFactory(name="Enterprise")
    stored = list(icp.criteria)
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/scoring/icps/{icp.pk}/")
    criteria = page.locator("[data-criteria-builder=criteria]")
    rows = criteria.locator("tbody tr[data-criteria-row]")
    expect(rows).to_have_count(len(stored))
    expect(rows.first.locator("select[name$=-attribute] option:checked")).to_have_text("Industry")
    expect(rows.nth(1).locator("select[name$=-operator] option:checked")).to_have_text("between")
    expect(rows.nth(1).locator("input[name$=-value]")).to_have_value("200, 2,000")
    page.screenshot(path=str(SHOTS / "icp-1-form.png"), full_page=True)

    # Saved with no change: it saves, and nothing changes.
    page.click("button:has-text('Save ICP')")
    expect(page.locator(".alert-success")).to_contain_text("Saved Enterprise")
    icp.refresh_from_db()
    assert icp.criteria == stored

    # A criterion added with the button, one removed; a bad value is refused and everything typed stays.
    page.click("button:has-text('Add criterion')")
    expect(rows).to_have_count(len(stored) + 1)
    new = rows.last
    new.locator("input[name$=-group]").fill("Revenue")
    new.locator("select[name$=-attribute]").select_option(label="Annual revenue")
    new.locator("select[name$=-operator]").select_option(label="≥")
    new.locator("input[name$=-value]").fill("a lot")
    new.locator("input[name$=-points]").fill("15")
    rows.nth(3).locator("button:has-text('Remove')").click()  # Geo: country is United States
    expect(rows.nth(3)).to_be_hidden()
    page.click("button:has-text('Add criterion')")  # an extra row left blank is ignored
    page.screenshot(path=str(SHOTS / "icp-2-edited.png"), full_page=True)
    page.click("button:has-text('Save ICP')")
    expect(page.locator(".alert-danger")).to_contain_text("Nothing was saved")
    bad = page.locator("tr[data-criteria-row]", has=page.locator("input[name$=-group][value=Revenue]"))
    expect(bad).to_contain_text("Write a number, e.g. 1,000 or 1.5M; “a lot” is not one.")
    expect(bad.locator("input[name$=-value]")).to_have_value("a lot")
    expect(bad.locator("input[name$=-points]")).to_have_value("15")
    expect(bad.locator("select[name$=-attribute] option:checked")).to_have_text("Annual revenue")
    expect(bad.locator("select[name$=-operator] option:checked")).to_have_text("≥")
    expect(rows.nth(3)).to_be_hidden()  # the removed row stays removed
    page.screenshot(path=str(SHOTS / "icp-3-error-kept.png"), full_page=True)
    icp.refresh_from_db()
    assert icp.criteria == stored

    bad.locator("input[name$=-value]").fill("$1B")
    page.click("button:has-text('Save ICP')")
    expect(page.locator(".alert-success")).to_contain_text("Saved Enterprise")
    expect(rows).to_have_count(len(stored))  # the removed one gone, the new one in, no blank rows
    expect(rows.last.locator("input[name$=-value]")).to_have_value("1,000,000,000")
    icp.refresh_from_db()
    assert icp.criteria == [
        *stored[:3],
        {"group": "Revenue", "attribute": "annual_revenue", "operator": "gte", "value": 1_000_000_000, "points": 15},
    ]


def test_an_admin_creates_a_new_icp(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/scoring/icps/new/")
    expect(page.locator("[data-criteria-builder=criteria] [data-criteria-empty]")).to_be_visible()
    page.fill("#id_name", "Mid-market")
    page.click("button:has-text('Add criterion')")
    row = page.locator("[data-criteria-builder=criteria] tr[data-criteria-row]").first
    expect(page.locator("[data-criteria-builder=criteria] [data-criteria-empty]")).to_be_hidden()
    row.locator("input[name$=-group]").fill("Size")
    row.locator("select[name$=-attribute]").select_option(label="Employees")
    row.locator("select[name$=-operator]").select_option(label="between")
    expect(row.locator("input[name$=-value]")).to_have_attribute("placeholder", "low, high")
    row.locator("input[name$=-value]").fill("1,000, 10,000")
    row.locator("input[name$=-points]").fill("40")
    page.click("button:has-text('Add exclusion')")
    exclusion = page.locator("[data-criteria-builder=exclusions] tr[data-criteria-row]").first
    exclusion.locator("select[name$=-attribute]").select_option(label="Customer")
    # A customer is true or false: "≥" is not offered.
    expect(exclusion.locator("select[name$=-operator] option[value=gte]")).to_be_disabled()
    exclusion.locator("input[name$=-value]").fill("yes")
    page.screenshot(path=str(SHOTS / "icp-4-new.png"), full_page=True)
    page.click("button:has-text('Save ICP')")
    expect(page.locator(".alert-success")).to_contain_text("Saved Mid-market")
    icp = ICP.objects.get(name="Mid-market")
    assert icp.criteria == [
        {"group": "Size", "attribute": "employee_count", "operator": "between", "value": [1000, 10000], "points": 40}
    ]
    assert icp.exclusions == [{"attribute": "is_customer", "operator": "eq", "value": True}]


def _published_v1(world, django_capture_on_commit_callbacks):
    from segmentation.services import model_publish
    from tests.factories import AccountFactory, ScoringModelFactory

    for number, (industry, staff) in enumerate((("Software", 500), ("fintech", 5000), ("retail", 50))):
        AccountFactory(name=f"Acme {number + 1}", industry=industry, employee_count=staff, country="United States")
    v1 = ScoringModelFactory(name="Standard", version=1, icp=ICPFactory(name="Enterprise"))
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=v1, user=world.admin)
    v1.refresh_from_db()
    return v1


def test_an_admin_edits_previews_and_publishes_a_model_then_restores_v1(
    page, live_server, world, django_capture_on_commit_callbacks
):
    from segmentation.models import ScoringModel
    from segmentation.selectors import active_model

    SHOTS.mkdir(parents=True, exist_ok=True)
    v1 = _published_v1(world, django_capture_on_commit_callbacks)
    first_publish = (v1.published_at, v1.published_by_id)
    admin = world.admin.get_full_name()
    log_in(page, live_server, "admin")

    # A new draft from the active version, edited by the labels of its numbers.
    page.locator("nav").get_by_role("link", name="Scoring", exact=True).click()
    page.click("button:has-text('New draft from the active version (v1)')")
    expect(page.locator("h1")).to_have_text("Edit draft v2")
    page.get_by_label("Fit weight").fill("0.5")
    page.get_by_label("Signal weight").fill("0.4")
    page.get_by_label("Tier 1 entry threshold").fill("80")
    page.get_by_label("Economic buyer").uncheck()
    page.screenshot(path=str(SHOTS / "model-1-edit.png"), full_page=True)
    page.click("button:has-text('Save draft')")
    expect(page.locator(".alert-success")).to_contain_text("Draft v2 saved")
    changes = page.locator("h2:has-text('Changes from v1') + ul")
    for line in (
        "Fit weight: 0.6 → 0.5",
        "Signal weight: 0.3 → 0.4",
        "Tier 1 entry threshold: 75 → 80",
        "Required personas: Economic buyer, Champion, Technical evaluator → Champion, Technical evaluator",
    ):
        expect(changes).to_contain_text(line)
    criteria = page.locator("#model-criteria")
    expect(criteria).to_contain_text("Employees between 200 and 2,000")
    expect(criteria).to_contain_text("Industry is one of Software, Fintech")
    expect(page.locator("#model-exclusions")).to_contain_text("Is a customer")

    # The impact preview, in tiers' labels.
    page.click("button:has-text('Preview impact')")
    expect(page.locator("#preview-summary")).to_contain_text("would change tier")
    expect(page.locator("#preview-tiers")).to_contain_text("Tier 1")
    expect(page.locator("#preview-tiers")).to_contain_text("Recycle")
    summary = page.locator("#preview-summary").inner_text()
    page.screenshot(path=str(SHOTS / "model-2-preview.png"), full_page=True)

    # The publish page says what the model page said, then the job runs to completion.
    page.click("text=Publish…")
    expect(page.locator("h1")).to_have_text("Publish Standard v2?")
    expect(page.locator("#preview-summary")).to_have_text(summary)
    expect(page.locator("#changes-from-active")).to_contain_text("Tier 1 entry threshold: 75 → 80")
    expect(page.locator("#model-criteria")).to_contain_text("Employees between 200 and 2,000")
    text = page.locator("main").inner_text()
    for code in ("tier_1", "w_fit", "tier1_enter", "employee_count", "economic_buyer", "->"):
        assert code not in text, code
    page.screenshot(path=str(SHOTS / "model-3-publish.png"), full_page=True)
    page.click("button:has-text('Yes, publish v2')")
    page.wait_for_url("**/jobs/*/")
    expect(page.locator(".alert-success")).to_contain_text("v2 is active; every account is being rescored.")
    expect(page.locator(".job-status")).to_have_text("Succeeded")
    expect(page.locator(".progress-bar")).to_have_text("100%")
    page.screenshot(path=str(SHOTS / "model-4-job.png"), full_page=True)
    v2 = ScoringModel.objects.get(version=2)
    assert active_model().pk == v2.pk and (v2.w_fit, v2.tier1_enter) == (0.5, 80)
    assert v2.required_personas == ["champion", "technical_evaluator"]
    assert ScoringModel.objects.get(pk=v1.pk).status == "archived"

    # v1 restored: its first publish stays, and the restore is recorded beside it.
    page.locator("nav").get_by_role("link", name="Scoring", exact=True).click()
    page.click("#version-1 >> text=v1")
    page.click("text=Restore…")
    expect(page.locator("main")).to_contain_text("Its original publish")
    page.click("button:has-text('Yes, restore v1')")
    page.wait_for_url("**/jobs/*/")
    expect(page.locator(".job-status")).to_have_text("Succeeded")
    v1.refresh_from_db()
    assert active_model().pk == v1.pk
    assert (v1.published_at, v1.published_by_id) == first_publish
    assert v1.restored_by == world.admin
    page.locator("nav").get_by_role("link", name="Scoring", exact=True).click()
    history = page.locator("#version-1")
    expect(history).to_contain_text(f"Published {v1.published_at:%Y-%m-%d %H:%M} by {admin}")
    expect(history).to_contain_text(f"Restored {v1.restored_at:%Y-%m-%d %H:%M} by {admin}")
    expect(history).to_contain_text("Active")
    expect(page.locator("#version-2")).to_contain_text("Archived")
    page.screenshot(path=str(SHOTS / "model-5-history.png"), full_page=True)
