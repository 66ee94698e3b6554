from celery import shared_task

from core.jobs import job_create, job_run
from core.models import Job

from .services import TOPIC_SURGES_TITLE, import_job_run
from .topics import topic_surges_refresh


@shared_task(acks_late=True)
def import_csv_task(job_id: int) -> None:
    """Run a queued import. Safe to re-run: the import upserts, so a second run changes nothing."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status == Job.Status.SUCCEEDED:
        return
    import_job_run(job=job)


@shared_task(acks_late=True)
def topic_surges_task(job_id: int | None = None) -> None:
    """Refresh every account's topic surges, as a job (nightly from beat, without a job; on demand by an admin, with
    the job the page follows). Safe to re-run: a second run over the same signals changes no surging topics."""
    if job_id is None:
        job = job_create(kind=Job.Kind.OTHER, title=TOPIC_SURGES_TITLE)
    else:
        job = Job.objects.filter(pk=job_id).first()
        if job is None or job.status == Job.Status.SUCCEEDED:
            return
    job_run(job=job, work=lambda job: topic_surges_refresh())


@shared_task(acks_late=True)
def duplicates_task(job_id: int) -> None:
    """Find the duplicate accounts (accounts/duplicates.py); a second run finds the same pairs."""
    from .duplicates import duplicates_job_run

    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        return
    duplicates_job_run(job=job)
