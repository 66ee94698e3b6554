from celery import shared_task
from django.db import OperationalError

from accounts.changes import OWNERS_TASK
from segmentation.services.qualify import MQAS_RAISED_TASK

from .services import handoffs_breach_mail, handoffs_create, handoffs_follow_queued, handoffs_notify_owners, sla_sweep


@shared_task(
    name=MQAS_RAISED_TASK, acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True
)
def handoffs_create_task(mqa_ids: list[int]) -> None:
    """Hand new MQAs to their owners (woken once they are committed). Idempotent: an MQA gets one handoff."""
    handoffs_create(mqa_ids)


@shared_task(name=OWNERS_TASK, acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def handoffs_follow_queued_task() -> None:
    """Give the pending handoffs of accounts on the owner-change queue to their new owners (woken once an owner
    change is committed; the minute sweep drains the queue too)."""
    handoffs_follow_queued()


@shared_task(acks_late=True, max_retries=3)
def handoff_notify_owners_task(handoff_ids: list[int]) -> None:
    """Tell owners about their new handoffs; each email is claimed first, so a re-run sends nothing twice."""
    handoffs_notify_owners(handoff_ids)


@shared_task(acks_late=True, max_retries=3)
def handoff_breach_mail_task(handoff_ids: list[int]) -> None:
    """Tell the managers about breaches; each email is claimed first, so a re-run sends nothing twice."""
    handoffs_breach_mail(handoff_ids)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def sla_sweep_task() -> None:
    """Every minute: mark overdue handoffs breached (each once) and run their breach actions."""
    sla_sweep()
