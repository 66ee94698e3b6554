"""The jobs page and job detail: admins see every job, others only the jobs they started; outsiders nothing."""

import pytest
from django.urls import reverse

from core.jobs import job_create, job_progress, job_run, job_start
from core.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(world):
    mine = job_create(kind=Job.Kind.ASSIGN, created_by=world.manager, title="assignment preview")
    theirs = job_create(kind=Job.Kind.IMPORT, created_by=world.admin, title="accounts from a.csv", total=10)
    job_start(job=theirs)
    job_progress(job=theirs, done=4)
    return mine, theirs


def test_admin_sees_every_job_with_its_progress(client, world, jobs):
    client.force_login(world.admin)
    page = client.get(reverse("job-list")).content.decode()
    assert "assignment preview" in page and "accounts from a.csv" in page
    assert 'data-progress-width="40"' in page and "4 / 10" in page
    assert 'src="/static/js/jobs.js"' in page


def test_others_see_only_their_own_jobs(client, world, jobs):
    mine, theirs = jobs
    client.force_login(world.manager)
    page = client.get(reverse("job-list")).content.decode()
    assert "assignment preview" in page and "accounts from a.csv" not in page
    assert client.get(reverse("job-detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("job-detail", args=[mine.pk])).status_code == 200
    client.force_login(world.rep)
    assert "assignment preview" not in client.get(reverse("job-list")).content.decode()


def test_outsider_and_anonymous(client, world, jobs):
    assert client.get(reverse("job-list")).status_code == 302
    client.force_login(world.outsider)
    assert client.get(reverse("job-list")).status_code == 403
    assert client.get(reverse("job-detail", args=[jobs[0].pk])).status_code == 403


def test_a_failing_job_records_its_error(world):
    def work(job):
        raise ValueError("the file went away")

    job = job_run(job=job_create(kind=Job.Kind.OTHER, created_by=world.admin), work=work)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("ValueError: the file went away")
    assert job.finished_at is not None


def test_a_succeeding_job_is_complete(world):
    job = job_run(job=job_create(kind=Job.Kind.OTHER, total=3), work=lambda job: {"summary": {"rows": 3}})
    job.refresh_from_db()
    assert (job.status, job.done, job.percent, job.result) == (Job.Status.SUCCEEDED, 3, 100, {"summary": {"rows": 3}})
