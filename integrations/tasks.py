from celery import shared_task
from django.db import OperationalError

from core.events import EVENTS_RECORDED_TASK

from .alerts.services import alerts_drain


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def alerts_drain_task() -> None:
    """Every minute: read new events into chat alerts and post what each channel may (held digests included)."""
    alerts_drain()


@shared_task(
    name=EVENTS_RECORDED_TASK, acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True
)
def events_recorded_task() -> None:
    """Woken once events commit: the chat alerts read them (and post) at once, not at the minute's drain."""
    alerts_drain()
