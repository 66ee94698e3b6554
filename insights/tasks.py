import datetime as dt

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from core.jobs import job_create, job_run
from core.models import Job

from .potential import potential_refresh
from .recalibration import DEFAULT_AS_OF, recalibration_job_create, recalibration_run
from .snapshots import kpi_snapshot_take


@shared_task(acks_late=True)
def recalibrate_task(job_id: int) -> None:
    """Fit the win model on closed deals and store its report on the job; a retried run reuses its own draft."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status == Job.Status.SUCCEEDED:
        return
    params = job.params or {}
    job_run(
        job=job,
        work=lambda job: (
            recalibration_run(
                user=job.created_by,
                job=job,
                target_mix=params.get("target_mix"),
                as_of=params.get("as_of") or DEFAULT_AS_OF,
            ).report
        ),
    )


POTENTIAL_WAITS = 12  # times 5 minutes: how long the refresh waits for a running rescore
RESCORE_STALE = dt.timedelta(hours=6)  # a rescore queued or running longer than this is stuck: don't wait for it


@shared_task(bind=True, acks_late=True, max_retries=POTENTIAL_WAITS)
def potential_refresh_task(self) -> None:
    """Recompute every account's spend potential, as a job (its statistics explain the numbers on the account pages).
    Idempotent: a re-run over the same scores and deals writes nothing."""
    # The potential reads the scores: after a rescore that is still running (a worker's, not this process's), wait.
    waiting = Job.objects.filter(
        kind=Job.Kind.RESCORE,
        status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
        created_at__gte=timezone.now() - RESCORE_STALE,
    )
    on_worker = not (self.request.is_eager or self.request.called_directly)
    if on_worker and self.request.retries < POTENTIAL_WAITS and waiting.exists():
        raise self.retry(countdown=300)
    job = job_create(kind=Job.Kind.POTENTIAL, title="spend potential")
    job_run(job=job, work=lambda job: potential_refresh())


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def kpi_snapshot_task() -> None:
    """Record today's KPI snapshots (for everyone, each territory, each owner). Taking a day again replaces it."""
    job = job_create(kind=Job.Kind.SNAPSHOT, title="KPI snapshot")
    job_run(job=job, work=lambda job: {"snapshots": kpi_snapshot_take()})


def recalibration_job_run_here(*, user, target_mix: list[float] | None = None, as_of: str = DEFAULT_AS_OF) -> Job:
    """A recalibration job recorded as the page records one, run to its end in this process rather than queued for
    a worker; returns the finished job (succeeded with its report as the result, or failed with the error)."""
    job = recalibration_job_create(user=user, target_mix=target_mix, as_of=as_of)
    recalibrate_task(job.pk)  # the task's own body, called here: nothing is queued
    job.refresh_from_db()
    return job


@shared_task(acks_late=True)
def backtest_task(job_id: int) -> None:
    """Score a model version and the active one as of a past cutoff and store how each ranked the later outcomes."""
    from .recalibration.backtest import backtest_run

    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status == Job.Status.SUCCEEDED:
        return
    job_run(job=job, work=lambda job: backtest_run(job=job))
