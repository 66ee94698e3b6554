from celery import shared_task

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
