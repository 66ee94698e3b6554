"""The admin upload page runs the same importer as a job, with column mapping and a downloadable error list."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Account
from core.models import Job

pytestmark = pytest.mark.django_db


def upload(client, body: bytes, *, kind="accounts", dry_run=False):
    data = {"kind": kind, "file": SimpleUploadedFile("firms.csv", body, content_type="text/csv")}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("import-new"), data)


@pytest.mark.parametrize("name", ["manager", "rep", "north_rep"])
def test_only_admins_may_import(client, world, name):
    client.force_login(getattr(world, name))
    assert client.get(reverse("import-new")).status_code == 403
    assert upload(client, b"external_id,name\nX,Y\n").status_code == 403
    assert client.get(reverse("import-map")).status_code == 403
    assert Account.objects.filter(external_id="X").count() == 0


def test_outsider_sees_the_no_role_page_and_anonymous_logs_in(client, world):
    response = client.get(reverse("import-new"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    client.force_login(world.outsider)
    response = client.get(reverse("import-new"))
    assert response.status_code == 403 and b"You have no role yet" in response.content


def test_upload_map_and_run(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    response = upload(client, b"company,staff,Country\nAcme,10,France\nBeta,lots,Spain\n")
    assert response.status_code == 302 and response["Location"] == reverse("import-map")
    page = client.get(reverse("import-map"))
    assert page.status_code == 200
    assert b"2 data rows" in page.content
    assert page.context["form"]["field__country"].value() == "Country"  # same-named column is mapped already
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("import-map"),
            {
                "field__name": "company",
                "field__external_id": "company",
                "field__employee_count": "staff",
                "field__country": "Country",
            },
        )
    job = Job.objects.get()
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    assert (job.status, job.created_by, job.done, job.total) == ("succeeded", world.admin, 2, 2)
    assert Account.objects.get(external_id="Acme").country == "France"
    detail = client.get(reverse("job-detail", args=[job.pk]))
    assert b"Rows not imported (1)" in detail.content
    errors = client.get(reverse("job-errors", args=[job.pk]))
    assert errors["Content-Type"].startswith("text/csv")
    assert errors.content.decode() == "line,reason\r\n3,employee_count: 'lots' is not a whole number\r\n"


def test_mapping_errors_are_shown_and_nothing_runs(client, world):
    client.force_login(world.admin)
    upload(client, b"company,staff\nAcme,10\n")
    response = client.post(reverse("import-map"), {"field__employee_count": "staff"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "No column is chosen for Name: every account needs it." in page
    assert response.context["form"]["field__employee_count"].value() == "staff"  # what was chosen is kept
    assert re.search(r'<option value="staff" data-samples="10" selected>', page)
    assert Job.objects.count() == 0


def test_bad_files_are_refused_at_upload(client, world):
    client.force_login(world.admin)
    response = upload(client, "name\nCafé\n".encode("latin-1"))
    assert response.status_code == 200
    assert "The file is not UTF-8 text" in response.content.decode()
    response = upload(client, b"")
    assert "The file is empty" in response.content.decode() or "submitted file is empty" in response.content.decode()
    assert Job.objects.count() == 0


def test_dry_run_then_import_for_real(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    upload(client, b"external_id,name\nA1,Acme\n", dry_run=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import-map"), {"field__name": "name", "field__external_id": "external_id"})
    dry = Job.objects.get()
    assert dry.result["summary"]["dry_run"] is True and dry.result["summary"]["created"] == 1
    assert not Account.objects.filter(external_id="A1").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("import-map"), {"field__name": "name", "field__external_id": "external_id", "run_for_real": "1"}
        )
    assert Account.objects.filter(external_id="A1").count() == 1
    assert client.get(reverse("import-map")).status_code == 302  # the pending upload is done with


def test_a_user_cannot_read_another_users_job(client, world):
    client.force_login(world.admin)
    upload(client, b"external_id,name\nA1,Acme\n")
    client.post(reverse("import-map"), {"field__name": "name", "field__external_id": "external_id"})
    job = Job.objects.get()
    client.force_login(world.manager)
    assert client.get(reverse("job-detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("job-errors", args=[job.pk])).status_code == 404
    assert client.get(f"/api/v1/jobs/{job.pk}/").status_code == 404


# --- Mapping: guessed, in words, with samples; the key checked before anything runs -----------------------------

PEOPLE_CSV = (
    b"Company Name,Account ID,Website,Employees,Founded,Revenue,Sector,Country,Notes\n"
    b"Acme,A-1,https://acme.example,1200,1999,5000000,Software,France,Call back\n"
    b"Globex,A-2,globex.example,80,2010,,Retail,Spain,\n"
    b"Initech,A-3,initech.example,15,2015,90000,Software,Italy,VIP\n"
    b"Umbrella,A-4,umbrella.example,3000,1970,1e9,Pharma,Germany,\n"
)


def test_columns_are_guessed_by_name_and_synonym(client, world):
    client.force_login(world.admin)
    upload(client, PEOPLE_CSV)
    form = client.get(reverse("import-map")).context["form"]
    guessed = {name.removeprefix("field__"): form[name].value() for name in form.fields if form[name].value()}
    assert guessed == {
        "name": "Company Name",
        "external_id": "Account ID",
        "domain": "Website",
        "employee_count": "Employees",
        "year_founded": "Founded",
        "annual_revenue": "Revenue",
        "industry": "Sector",
        "country": "Country",
    }


def test_the_mapping_page_names_fields_by_label_and_shows_three_values_per_column(client, world):
    client.force_login(world.admin)
    upload(client, PEOPLE_CSV)
    page = client.get(reverse("import-map")).content.decode()
    for label in ("Name *", "Account ID", "Employees", "Annual revenue", "Year founded", "Parent account"):
        assert f">{label}</label>" in page
    assert ">employee_count<" not in page and ">year_founded<" not in page
    # The first three values of the column chosen for each field, beside it.
    assert 'id="samples-id_field__name">Acme · Globex · Initech</td>' in page
    assert 'id="samples-id_field__employee_count">1200 · 80 · 15</td>' in page
    assert 'id="samples-id_field__region"></td>' in page  # no column chosen: nothing to show
    assert 'data-samples="1200 · 80 · 15"' in page  # every column's values, for the script to show on a change
    assert "Call back" in page and "VIP" in page  # the file's columns with their first values
    assert 'id="unmapped"' in page and "Notes" in page.split('id="unmapped"')[1]
    assert "COLUMN=FIELD" not in page and "--map" not in page
    assert "Account ID or Domain identifies each account: choose a column for at least one." in page


def test_the_key_is_checked_when_the_mapping_is_chosen_and_nothing_is_lost(client, world):
    client.force_login(world.admin)
    upload(client, PEOPLE_CSV)
    chosen = {"field__name": "Company Name", "field__employee_count": "Employees", "field__industry": "Sector"}
    response = client.post(reverse("import-map"), chosen)
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "No column identifies each account: choose the column for Account ID or Domain, so that importing the file "
        "again updates the same accounts instead of adding them twice." in page
    )
    for column in chosen.values():
        assert re.search(rf'<option value="{column}" data-samples="[^"]*" selected>', page)
    form = response.context["form"]
    assert {k: form[k].value() for k in chosen} == chosen
    assert not form["field__external_id"].value()  # left as chosen: not in the file
    assert Job.objects.count() == 0 and not Account.objects.filter(name="Acme").exists()
    # Choosing the key then runs it.
    response = client.post(reverse("import-map"), {**chosen, "field__domain": "Website"})
    assert response.status_code == 302
    assert Job.objects.get().params["complete"] is True


def test_the_mapping_chosen_is_the_whole_mapping(client, world, django_capture_on_commit_callbacks):
    """A column named like a field that the person left out stays out (kept with the account, under its name)."""
    client.force_login(world.admin)
    upload(client, b"external_id,name,industry\nA1,Acme,Software\n")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import-map"), {"field__name": "name", "field__external_id": "external_id"})
    account = Account.objects.get(external_id="A1")
    assert account.industry == "" and account.attributes == {"industry": "Software"}


# --- Results in words, rejected rows as uploaded -----------------------------------------------------------------

BAD_CSV = (
    b"Company Name,Account ID,Employees,Notes\n"
    b"Acme,A-1,1200,first\n"
    b'Bad Co,A-2,lots,"quoted, with a comma"\n'
    b",A-3,10,no name\n"
    b"Too,A-4,1,x,extra\n"
)


def run_bad_import(client, django_capture_on_commit_callbacks, *, dry_run=False) -> Job:
    upload(client, BAD_CSV, dry_run=dry_run)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("import-map"),
            {"field__name": "Company Name", "field__external_id": "Account ID", "field__employee_count": "Employees"},
        )
    return Job.objects.latest("pk")


def test_the_job_page_reads_the_result_in_words(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    job = run_bad_import(client, django_capture_on_commit_callbacks)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    result = page.split('id="job-result"')[1].split("</table>")[0]
    for label, value in (("File", "firms.csv"), ("Holds", "Accounts"), ("Rows read", "4"), ("Created", "1"),
                         ("Not imported", "3")):  # fmt: skip
        assert f'<th scope="row">{label}</th><td class="text-end">{value}</td>' in result
    for code in ("dry_run", "False", "True", ">kind<", ">failed<"):
        assert code not in result
    assert "Employees: &#x27;lots&#x27; is not a whole number" in page
    assert "Name is required but empty" in page
    assert "Started by" in page and world.admin.get_full_name() in page


def test_a_dry_run_says_so_in_words(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    job = run_bad_import(client, django_capture_on_commit_callbacks, dry_run=True)
    result = client.get(reverse("job-detail", args=[job.pk])).content.decode().split('id="job-result"')[1]
    assert "Yes: everything was checked and counted, nothing was written" in result
    assert '<th scope="row">Would be created</th>' in result
    assert not Account.objects.filter(external_id="A-1").exists()


def test_the_rejected_rows_download_holds_the_rows_as_uploaded(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    job = run_bad_import(client, django_capture_on_commit_callbacks)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    url = reverse("import-rejects", args=[job.pk])
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="firms-not-imported.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["Line", "Reason not imported", "Company Name", "Account ID", "Employees", "Notes"],
        ["3", "Employees: 'lots' is not a whole number", "Bad Co", "A-2", "lots", "quoted, with a comma"],
        ["4", "Name is required but empty", "", "A-3", "10", "no name"],
        ["5", "Has 5 fields but the header has 4", "Too", "A-4", "1", "x", "extra"],
    ]
    # The uploaded file itself is gone once imported; its rejected rows stay.
    assert not Path(job.params["path"]).exists()


@pytest.mark.parametrize("name", ["manager", "north_rep"])
def test_only_admins_download_rejected_rows(client, world, name, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    job = run_bad_import(client, django_capture_on_commit_callbacks)
    client.force_login(getattr(world, name))
    assert client.get(reverse("import-rejects", args=[job.pk])).status_code == 403
    client.force_login(world.outsider)
    assert client.get(reverse("import-rejects", args=[job.pk])).status_code == 403


def test_rejected_rows_of_another_kind_of_job_are_not_found(client, world):
    from core.jobs import job_create

    job = job_create(kind="rescore", created_by=world.admin)
    client.force_login(world.admin)
    assert client.get(reverse("import-rejects", args=[job.pk])).status_code == 404
    assert client.get(reverse("import-rejects", args=[999999])).status_code == 404


def test_an_import_from_before_rows_were_kept_gives_lines_and_reasons(client, world):
    from core.jobs import job_create

    job = job_create(kind="import", created_by=world.admin, params={"kind": "accounts", "filename": "old.csv"})
    job.result = {"summary": {}, "errors": [[7, "employee_count: 'x' is not a whole number"]], "notes": []}
    job.save(update_fields=["result"])
    client.force_login(world.admin)
    response = client.get(reverse("import-rejects", args=[job.pk]))
    body = b"".join(response.streaming_content).decode()
    assert body == "Line,Reason not imported\r\n7,Employees: 'x' is not a whole number\r\n"
