"""A rep logs in, browses their accounts, opens one, and cannot open another territory's account."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_logs_in_and_browses_their_accounts(page, live_server, world):
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/login/")
    page.fill("#id_username", "north_rep")
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "My work" in page.inner_text("h1")
    assert page.locator("nav >> text=Import").count() == 0

    page.click("nav >> text=Accounts")
    page.wait_for_url(f"{live_server.url}/accounts/")
    rows = page.locator("table tbody tr td:first-child").all_inner_texts()
    assert sorted(rows) == ["North account", "Owned by rep"]

    page.fill("input[name=q]", "North")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**/accounts/?q=North*")
    assert page.locator("table tbody tr td:first-child").all_inner_texts() == ["North account"]

    page.click("text=North account")
    page.wait_for_url(f"{live_server.url}/accounts/{world.north_account.pk}/")
    assert page.inner_text("h1").startswith("North account")
    assert "Territory: North" in page.inner_text("body")

    response = page.goto(f"{live_server.url}/accounts/{world.south_account.pk}/")
    assert response.status == 404
    assert "South account" not in page.content()
    page.problems.clear()  # the refused page was opened on purpose


def test_admin_follows_an_import_to_its_result(page, live_server, world, tmp_path):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.click("nav >> text=Import")
    source = tmp_path / "firms.csv"
    source.write_text("company,staff\nBrowser Co,12\nBad Co,lots\n", encoding="utf-8")
    page.select_option("#id_kind", "accounts")
    page.set_input_files("#id_file", str(source))
    page.click("button:has-text('Upload and map columns')")
    page.wait_for_url("**/accounts/imports/map/")
    page.select_option("#id_field__name", "company")
    page.select_option("#id_field__external_id", "company")
    page.select_option("#id_field__employee_count", "staff")
    page.click("button:has-text('Start import')")
    page.wait_for_url("**/jobs/*/")
    page.wait_for_selector("text=Rows not imported (1)")
    assert "Succeeded" in page.inner_text(".job-status")
    assert page.locator(".progress-bar").inner_text() == "100%"
    assert "Employees: 'lots' is not a whole number" in page.inner_text("body")


def test_job_progress_bars_update_live(page, live_server, world):
    from core.jobs import job_create, job_progress, job_start, job_succeed

    job = job_create(kind="import", created_by=world.admin, title="a long import", total=200)
    job_start(job=job)
    job_progress(job=job, done=50)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/jobs/")
    row = page.locator(f"tr[data-job-id='{job.pk}']")
    assert row.locator(".progress-bar").inner_text() == "25%"
    job_progress(job=job, done=150)  # the page polls /api/v1/jobs/{id}/ and moves the bar without a reload
    # A function, not an expression: Playwright evals a bare expression, which the CSP refuses (no 'unsafe-eval').
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector).textContent === text",
        arg=[f"tr[data-job-id='{job.pk}'] .progress-bar", "75%"],
    )
    job_succeed(job=job, result={})
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector).textContent === text",
        arg=[f"tr[data-job-id='{job.pk}'] .job-status", "Succeeded"],
    )
    assert row.locator(".progress-bar").inner_text() == "100%"
    assert "150 / 200" not in row.inner_text()
