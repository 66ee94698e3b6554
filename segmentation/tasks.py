from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from accounts.changes import LOOKALIKE_TASK, RESCORE_TASK
from core.jobs import job_run
from core.models import Job
from territories.services import CAPACITY_TASK

from .models import ScoringModel
from .selectors import active_model
from .services import (
    capacity_queued,
    preview_compute,
    rescore_chunk_run,
    rescore_job_start,
    rescore_pending,
    score_scopes_repair,
)
from .services.lookalikes import lookalikes_job_run, lookalikes_queued, lookalikes_refresh


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def rescore_chunk_task(job_id: int, number: int) -> None:
    """One slice of a full rescore. Idempotent: a slice already done is skipped, a re-run writes nothing new."""
    rescore_chunk_run(job_id, number)


@shared_task(name=RESCORE_TASK, acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def rescore_pending_task() -> None:
    """Rescore the accounts on the rescore queue (woken after each change, and every minute); a burst of changes to
    one account is scored once."""
    rescore_pending()


@shared_task(name=CAPACITY_TASK, acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def capacity_queued_task() -> None:
    """Re-check the Tier 1 capacity of the territories on the capacity queue (their members changed). Idempotent."""
    capacity_queued()


@shared_task(acks_late=True)
def rescore_daily_task() -> None:
    """Rescore everyone once a day so that signal decay shows in every score; first, set right any score whose copy
    of its account's territory and owner drifted (services/scopes.py)."""
    score_scopes_repair()
    if active_model() is not None:
        rescore_job_start(title="daily rescore")


@shared_task(acks_late=True)
def preview_task(job_id: int) -> None:
    """What publishing a version would change; read-only, so a re-run simply computes it again."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status == Job.Status.SUCCEEDED:
        return
    model = ScoringModel.objects.select_related("icp").filter(pk=job.params["model_id"]).first()

    def work(job: Job) -> dict:
        if model is None:
            raise ValueError("This scoring model no longer exists.")

        def progress(done: int, total: int) -> None:
            Job.objects.filter(pk=job.pk).update(done=done, total=total, progressed_at=timezone.now())

        return preview_compute(model=model, progress=progress)

    job_run(job=job, work=work)


@shared_task(acks_late=True)
def lookalikes_nightly_task() -> None:
    """Every account's lookalike score against the accounts won lately, once a night. Idempotent."""
    lookalikes_refresh(trigger="nightly")


@shared_task(name=LOOKALIKE_TASK, acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def lookalikes_queued_task() -> None:
    """Won deals changed (the lookalike queue): one refresh for the burst."""
    lookalikes_queued()


@shared_task(acks_late=True)
def lookalikes_job_task(job_id: int) -> None:
    """A refresh an admin asked for, as a job."""
    lookalikes_job_run(job_id)
