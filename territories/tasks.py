from celery import shared_task
from django.db import OperationalError

from core.jobs import job_run
from core.models import Job

from .services import assignment_apply, route_new_accounts


@shared_task(acks_late=True)
def assign_owners_task(job_id: int) -> None:
    """Apply an owner assignment. Safe to re-run: a second run finds nothing left to move."""
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status == Job.Status.SUCCEEDED:
        return

    def work(job: Job) -> dict:
        plan, result = assignment_apply(user=job.created_by, account_ids=job.params.get("account_ids"), job=job)
        return {
            "summary": {
                "accounts considered": plan.considered,
                "moved": result.moved,
                "skipped (changed meanwhile)": result.skipped,
                "unassigned after": plan.unassigned,
                "outside your territories": plan.outside_scope,
            }
        }

    job_run(job=job, work=work)


@shared_task(acks_late=True)
def route_accounts_task(account_ids: list[int]) -> None:
    """Route new accounts at once (import, API)."""
    route_new_accounts(account_ids=account_ids)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def handoffs_create_task(mqa_ids: list[int]) -> None:
    """Hand new MQAs to their owners. Idempotent: an MQA gets one handoff."""
    from .handoffs import handoffs_create

    handoffs_create(mqa_ids)


@shared_task(acks_late=True, max_retries=3)
def handoff_notify_owners_task(handoff_ids: list[int]) -> None:
    """Tell owners about their new handoffs; each email is claimed first, so a re-run sends nothing twice."""
    from .handoffs import handoffs_notify_owners

    handoffs_notify_owners(handoff_ids)


@shared_task(acks_late=True, max_retries=3)
def handoff_breach_mail_task(handoff_ids: list[int]) -> None:
    """Tell the managers about breaches; each email is claimed first, so a re-run sends nothing twice."""
    from .handoffs import handoffs_breach_mail

    handoffs_breach_mail(handoff_ids)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def sla_sweep_task() -> None:
    """Every minute: mark overdue handoffs breached (each once) and run their breach actions."""
    from .handoffs import sla_sweep

    sla_sweep()
