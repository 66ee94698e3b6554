import datetime as dt

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from core.jobs import job_create, job_run
from core.models import Job

from .models import ScoringModel
from .recalibration import recalibration_run
from .services import capacity_refresh, preview_compute, rescore_chunk_run, rescore_job_start, rescore_pending


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def rescore_chunk_task(job_id: int, number: int) -> None:
    """One slice of a full rescore. Idempotent: a slice already done is skipped, a re-run writes nothing new."""
    rescore_chunk_run(job_id, number)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def rescore_pending_task() -> None:
    """Rescore the accounts whose data changed; a burst of changes to one account is scored once."""
    rescore_pending()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def capacity_refresh_task(territory_id: int) -> None:
    """Re-check one territory's Tier 1 capacity (its memberships changed). Idempotent."""
    capacity_refresh(territory_id)


@shared_task(acks_late=True)
def rescore_daily_task() -> None:
    """Rescore everyone once a day so that signal decay shows in every score."""
    from .services import active_model

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
            Job.objects.filter(pk=job.pk).update(done=done, total=total)

        return preview_compute(model=model, progress=progress)

    job_run(job=job, work=work)


@shared_task(acks_late=True)
def recalibrate_task(job_id: int) -> None:
    """Fit the win model on closed deals and store its report on the job; a retried run reuses its own draft."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status == Job.Status.SUCCEEDED:
        return
    job_run(job=job, work=lambda job: recalibration_run(user=job.created_by, job=job).report)


POTENTIAL_WAITS = 12  # times 5 minutes: how long the refresh waits for a running rescore
RESCORE_STALE = dt.timedelta(hours=6)  # a rescore queued or running longer than this is stuck: don't wait for it


@shared_task(bind=True, acks_late=True, max_retries=POTENTIAL_WAITS)
def potential_refresh_task(self) -> None:
    """Recompute every account's spend potential, as a job (its statistics explain the numbers on the account pages).
    Idempotent: a re-run over the same scores and deals writes nothing."""
    from .potential import potential_refresh

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
    from core.jobs import job_create

    from .kpi_snapshots import kpi_snapshot_take

    job = job_create(kind=Job.Kind.SNAPSHOT, title="KPI snapshot")
    job_run(job=job, work=lambda job: {"snapshots": kpi_snapshot_take()})
