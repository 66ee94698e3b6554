"""An admin imports a CRM export with bad rows: the columns are guessed from their names and shown with their first
values; the mapping without the account's key is refused, in words, with nothing lost; the job runs to its end; its
result reads in words; the rejected rows download as they were uploaded, with their line and reason."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from core.models import Job

from .steps import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPORT = (
    "Company Name,Account ID,Website,Employees,Founded,Revenue,Sector,Country,Notes\n"
    "Acme Corp,A-100,https://www.acme.example/about,1200,1999,5000000,Software,France,Met at the fair\n"  # line 2
    "Globex,A-101,globex.example,lots,2010,,Retail,Spain,\n"  # line 3: employees not a number
    ",A-102,nameless.example,15,2015,90000,Software,Italy,No name\n"  # line 4: no name
    'Initech,A-103,initech.example,300,1988,750000,Software,Germany,"Quoted, with a comma"\n'  # line 5
    "Hooli,A-104,hooli.example,12,1900a,1e6,Media,United States,\n"  # line 6: founded not a year
)


def test_an_admin_imports_a_file_with_bad_rows_and_gets_them_back(page, live_server, world, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "crm-export.csv"
    source.write_text(EXPORT, encoding="utf-8")
    log_in(page, live_server, "admin")
    page.click("nav >> text=Import")
    expect(page.locator("body")).not_to_contain_text("external_id")
    page.select_option("#id_kind", "accounts")
    page.set_input_files("#id_file", str(source))
    page.click("button:has-text('Upload and map columns')")
    page.wait_for_url("**/accounts/imports/map/")

    # Guessed by name and synonym; each field by its label, with the chosen column's first values.
    guessed = {
        "name": "Company Name", "external_id": "Account ID", "domain": "Website", "employee_count": "Employees",
        "year_founded": "Founded", "annual_revenue": "Revenue", "industry": "Sector", "country": "Country",
    }  # fmt: skip
    for field, column in guessed.items():
        expect(page.locator(f"#id_field__{field}")).to_have_value(column)
    expect(page.locator("#id_field__owner")).to_have_value("")
    name_row = page.locator("#mapping tr[data-field=name]")
    expect(name_row.locator("label")).to_have_text("Name *")
    expect(name_row.locator(".sample-values")).to_have_text("Acme Corp · Globex · Initech")
    expect(page.locator("#mapping tr[data-field=employee_count] label")).to_have_text("Employees")
    expect(page.locator("#mapping tr[data-field=employee_count] .sample-values")).to_have_text("1200 · lots · 15")
    expect(page.locator("#unmapped")).to_contain_text("Notes")
    assert "--map" not in page.inner_text("body") and "COLUMN=FIELD" not in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "import-1-mapping-guessed.png"), full_page=True)

    # A changed choice shows the new column's values at once.
    page.select_option("#id_field__industry", "Notes")
    expect(page.locator("#samples-id_field__industry")).to_have_text("Met at the fair · No name · Quoted, with a comma")
    page.select_option("#id_field__industry", "Sector")

    # Without the account's key the mapping is refused, in words, and every choice is kept.
    page.select_option("#id_field__external_id", "")
    page.select_option("#id_field__domain", "")
    page.click("button:has-text('Start import')")
    expect(page.locator("#mapping-errors")).to_contain_text(
        "No column identifies each account: choose the column for Account ID or Domain"
    )
    expect(page.locator("#id_field__employee_count")).to_have_value("Employees")
    expect(page.locator("#id_field__industry")).to_have_value("Sector")
    expect(page.locator("#id_field__external_id")).to_have_value("")
    assert Job.objects.count() == 0
    page.screenshot(path=str(SHOTS / "import-2-key-missing.png"), full_page=True)

    page.select_option("#id_field__external_id", "Account ID")
    page.select_option("#id_field__domain", "Website")
    page.click("button:has-text('Start import')")
    page.wait_for_url("**/jobs/*/")
    expect(page.locator(".job-status")).to_have_text("Succeeded")
    expect(page.locator(".progress-bar")).to_have_text("100%")

    # The result in words.
    result = page.locator("#job-result")
    for label, value in (("File", "crm-export.csv"), ("Holds", "Accounts"), ("Rows read", "5"), ("Created", "2"),
                         ("Not imported", "3")):  # fmt: skip
        expect(result.locator("tr", has=page.locator(f"th:text-is('{label}')")).locator("td")).to_have_text(value)
    assert "dry_run" not in result.inner_text() and "False" not in result.inner_text()
    errors = page.locator("#job-errors")
    expect(errors).to_contain_text("Employees: 'lots' is not a whole number")
    expect(errors).to_contain_text("Name is required but empty")
    expect(errors).to_contain_text("Year founded: '1900a' is not a whole number")
    expect(page.locator("h2", has_text="Rows not imported")).to_have_text("Rows not imported (3)")
    page.screenshot(path=str(SHOTS / "import-3-result.png"), full_page=True)

    # The rejected rows, as uploaded, with line and reason.
    with page.expect_download() as download_info:
        page.click("#download-rejects")
    download = download_info.value
    assert download.suggested_filename == "crm-export-not-imported.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    original = list(csv.reader(io.StringIO(EXPORT)))
    assert rows[0] == ["Line", "Reason not imported", *original[0]]
    assert [(r[0], r[2:]) for r in rows[1:]] == [("3", original[2]), ("4", original[3]), ("6", original[5])]
    assert [r[1] for r in rows[1:]] == [
        "Employees: 'lots' is not a whole number",
        "Name is required but empty",
        "Year founded: '1900a' is not a whole number",
    ]

    # What is stored: the good rows, their fields from the columns chosen, the unmapped column kept with them.
    acme = Account.objects.get(external_id="A-100")
    assert (acme.name, acme.domain, acme.employee_count, acme.year_founded, acme.industry, acme.country) == (
        "Acme Corp", "acme.example", 1200, 1999, "Software", "France",
    )  # fmt: skip
    assert acme.annual_revenue == 5_000_000 and acme.attributes == {"Notes": "Met at the fair"}
    assert Account.objects.get(external_id="A-103").attributes == {"Notes": "Quoted, with a comma"}
    assert not Account.objects.filter(external_id__in=["A-101", "A-102", "A-104"]).exists()
    job = Job.objects.get()
    assert (job.status, job.result["summary"]["created"], job.result["summary"]["failed"]) == ("succeeded", 2, 3)
