"""Jobs that heal: a job stuck with no progress is resumed when it can be (a rescore), failed with a reason
otherwise; a job that shows signs of life is left alone."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Account
from core.jobs import MAX_RESUMES, job_create, job_progress, job_start, jobs_heal
from core.models import Job
from segmentation import services
from segmentation.models import AccountScore, RescoreChunk
from segmentation.services import rescore
from tests.factories import AccountFactory, ScoringModelFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def silent_for(job: Job, minutes: int) -> None:
    """The job's last sign of life was `minutes` ago."""
    moment = timezone.now() - dt.timedelta(minutes=minutes)
    Job.objects.filter(pk=job.pk).update(created_at=moment, started_at=moment, progressed_at=moment)


def test_a_rescore_whose_slices_were_lost_is_resumed_and_finishes(django_capture_on_commit_callbacks):
    AccountFactory.create_batch(4)
    # Published, but the slices handed to the workers never ran (the broker or the worker was lost).
    with django_capture_on_commit_callbacks(execute=False):
        job = services.model_publish(model=ScoringModelFactory(), user=None, as_of=AS_OF)
    assert AccountScore.objects.count() == 0
    silent_for(job, settings.JOB_STUCK_MINUTES + 1)

    with django_capture_on_commit_callbacks(execute=True):
        healed = jobs_heal()
    assert healed == {"resumed": [job.pk], "failed": []}
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.params["resumed"] == 1
    assert AccountScore.objects.count() == Account.objects.count() == 4
    assert not RescoreChunk.objects.filter(job=job, done_at__isnull=True).exists()


def test_a_rescore_stopped_mid_way_keeps_its_done_slices(django_capture_on_commit_callbacks, settings, monkeypatch):
    settings.RESCORE_SLICES = 2  # PostgreSQL
    monkeypatch.setattr(rescore, "CHUNK_ACCOUNTS", 3)  # elsewhere
    AccountFactory.create_batch(6)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.model_publish(model=ScoringModelFactory(), user=None, as_of=AS_OF)
    assert RescoreChunk.objects.filter(job=job).count() == 2
    first = RescoreChunk.objects.filter(job=job).order_by("number").first()
    services.rescore_chunk_run(job.pk, first.number)  # one slice done, then the worker died
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.progressed_at is not None
    silent_for(job, settings.JOB_STUCK_MINUTES + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_heal()["resumed"] == [job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert AccountScore.objects.count() == 6


def test_a_job_that_cannot_resume_is_failed_with_the_reason():
    job = job_create(kind=Job.Kind.IMPORT, title="accounts.csv")
    job_start(job=job, total=100)
    job_progress(job=job, done=40)
    silent_for(job, settings.JOB_STUCK_MINUTES + 1)
    assert jobs_heal() == {"resumed": [], "failed": [job.pk]}
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.finished_at is not None
    assert f"no progress for {settings.JOB_STUCK_MINUTES} minutes" in job.error
    assert "Start it again" in job.error
    assert job.done == 40  # what it did is kept


def test_jobs_with_signs_of_life_are_left_alone():
    running = job_create(kind=Job.Kind.IMPORT)
    job_start(job=running)
    silent_for(running, settings.JOB_STUCK_MINUTES + 5)
    job_progress(job=running, done=10)  # it just moved
    queued = job_create(kind=Job.Kind.ASSIGN)  # just queued
    finished = job_create(kind=Job.Kind.IMPORT)
    Job.objects.filter(pk=finished.pk).update(status=Job.Status.SUCCEEDED)
    silent_for(finished, settings.JOB_STUCK_MINUTES + 5)
    almost = job_create(kind=Job.Kind.IMPORT)
    job_start(job=almost)
    silent_for(almost, settings.JOB_STUCK_MINUTES - 1)
    assert jobs_heal() == {"resumed": [], "failed": []}
    statuses = dict(Job.objects.values_list("pk", "status"))
    assert statuses == {
        running.pk: Job.Status.RUNNING,
        queued.pk: Job.Status.QUEUED,
        finished.pk: Job.Status.SUCCEEDED,
        almost.pk: Job.Status.RUNNING,
    }


def test_a_rescore_that_never_finishes_is_failed_after_a_few_resumes(django_capture_on_commit_callbacks):
    AccountFactory.create_batch(2)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.model_publish(model=ScoringModelFactory(), user=None, as_of=AS_OF)
    for attempt in range(MAX_RESUMES):
        silent_for(job, settings.JOB_STUCK_MINUTES + 1)
        with django_capture_on_commit_callbacks(execute=False):  # each resume's slices are lost again
            assert jobs_heal()["resumed"] == [job.pk], attempt
    silent_for(job, settings.JOB_STUCK_MINUTES + 1)
    assert jobs_heal() == {"resumed": [], "failed": [job.pk]}
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert f"Resumed {MAX_RESUMES} times without finishing" in job.error


def test_a_rescore_of_a_replaced_version_is_failed_not_resumed(django_capture_on_commit_callbacks):
    AccountFactory.create_batch(2)
    with django_capture_on_commit_callbacks(execute=False):
        old = services.model_publish(model=ScoringModelFactory(), user=None, as_of=AS_OF)
    Job.objects.filter(pk=old.pk).update(status=Job.Status.RUNNING)
    RescoreChunk.objects.filter(job=old).update(done_at=timezone.now())  # stopped after its slices, before its end
    with django_capture_on_commit_callbacks(execute=True):
        services.model_publish(model=ScoringModelFactory(w_fit=0.5, w_signal=0.4), user=None, as_of=AS_OF)
    silent_for(old, settings.JOB_STUCK_MINUTES + 1)
    assert jobs_heal()["failed"] == [old.pk]
    old.refresh_from_db()
    assert "It could not be resumed: This version is no longer active" in old.error


def test_the_beat_runs_the_healer_every_few_minutes():
    from config.celery_app import app

    entry = settings.CELERY_BEAT_SCHEDULE["jobs-heal"]
    assert entry["task"] == "core.jobs_heal"
    app.loader.import_default_modules()
    assert "core.jobs_heal" in app.tasks
    assert settings.JOB_STUCK_MINUTES * 60 > settings.CELERY_TASK_TIME_LIMIT
