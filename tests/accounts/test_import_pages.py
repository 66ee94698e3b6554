"""The admin upload page runs the same importer as a job, with column mapping and a downloadable error list."""

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
    assert "Missing required column(s) for accounts: name" in response.content.decode()
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
