from celery import shared_task
from django.db import OperationalError

from accounts.changes import ROUTE_TASK
from core.jobs import job_run
from core.models import Job

from .services import assignment_apply, route_queued, unrouted_account_ids


@shared_task(acks_late=True)
def assign_owners_task(job_id: int) -> None:
    """Apply an owner assignment. Safe to re-run: a second run finds nothing left to move."""
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status == Job.Status.SUCCEEDED:
        return

    def work(job: Job) -> dict:
        # A run of the accounts in no territory reads them when it starts (a retry reads what is left).
        ids = unrouted_account_ids() if job.params.get("unrouted") else job.params.get("account_ids")
        plan, result = assignment_apply(user=job.created_by, account_ids=ids, job=job)
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


@shared_task(name=ROUTE_TASK, acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def route_queued_task() -> None:
    """Route the new and changed accounts on the routing queue (woken after each change, and every minute)."""
    route_queued()
