from celery import shared_task
from django.db import OperationalError

from core.events import EVENTS_RECORDED

from .webhooks.delivery import deliver


@shared_task(name=EVENTS_RECORDED, acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def events_recorded_task() -> None:
    """Events committed (or the minute's beat): sequence them, fan them out to the webhook endpoints and send what
    is due, retries included. Workers woken together share the work: each claims different deliveries."""
    deliver()
