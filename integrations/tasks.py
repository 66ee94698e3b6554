"""The integrations' Celery tasks."""

from celery import shared_task
from django.db import OperationalError

from core.events import EVENTS_RECORDED
from core.models import Job

from .alerts.services import alerts_drain
from .crm.services import SyncRunning, sync_job_run, sync_start
from .models import CrmConnection
from .webhooks.delivery import deliver


@shared_task(name="integrations.crm.sync_job", acks_late=True)
def crm_sync_task(job_id: int) -> None:
    """Run a queued CRM sync. Safe to re-run: records are upserted by CRM id from the committed watermark."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        return
    sync_job_run(job=job)


@shared_task(name="integrations.crm.sync_all")
def crm_sync_all_task() -> None:
    """Every 15 minutes (beat): each enabled connection without a sync running is synced."""
    for connection in CrmConnection.objects.filter(enabled=True):
        try:
            job = sync_start(connection=connection, enqueue=False)
        except SyncRunning:
            continue  # the one running carries on
        sync_job_run(job=job)


@shared_task(name=EVENTS_RECORDED, acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def events_recorded_task() -> None:
    """Events committed (or the minute's beat): sequence them, fan them out to the webhook endpoints and send what
    is due, retries included (workers woken together share the work: each claims different deliveries); then the chat
    alerts read them and post what each channel may, held digests included. Chat alerts run even if a delivery
    fails."""
    try:
        deliver()
    finally:
        alerts_drain()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def alerts_drain_task() -> None:
    """Read new events into chat alerts and post what each channel may (held digests included)."""
    alerts_drain()
