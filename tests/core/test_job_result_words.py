"""A job's page reads its result in words: labels for the figures' keys, yes/no, numbers with separators."""

import pytest
from django.urls import reverse

from core.jobs import job_create, job_succeed

pytestmark = pytest.mark.django_db


def test_a_jobs_result_reads_in_words(client, world):
    job = job_create(kind="rescore", created_by=world.admin, title="full rescore")
    job_succeed(
        job=job,
        result={"summary": {"version": 3, "accounts scored": 1_200_000, "dry_run": False, "held_out": 0.25}},
    )
    client.force_login(world.admin)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    result = page.split('id="job-result"')[1].split("</table>")[0]
    for label, text in (("Model version", "3"), ("Accounts scored", "1,200,000"), ("Dry run", "No"),
                        ("Held out", "0.25")):  # fmt: skip
        assert f'<th scope="row">{label}</th><td class="text-end">{text}</td>' in result
    assert "dry_run" not in result and "False" not in result and "1200000" not in result
