from celery import shared_task

from core.models import Job

from .services import import_job_run


@shared_task(acks_late=True)
def import_csv_task(job_id: int) -> None:
    """Run a queued import. Safe to re-run: the import upserts, so a second run changes nothing."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status == Job.Status.SUCCEEDED:
        return
    import_job_run(job=job)


@shared_task(acks_late=True)
def duplicates_task(job_id: int) -> None:
    """Find the duplicate accounts (accounts/duplicates.py); a second run finds the same pairs."""
    from .duplicates import duplicates_job_run

    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        return
    duplicates_job_run(job=job)
