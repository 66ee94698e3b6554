from celery import shared_task
from django.db import OperationalError

from accounts.changes import ROUTE_TASK
from core.jobs import job_run
from core.models import Job

from .models import AssignmentPreview, Membership, Scenario
from .services import assignment_apply, membership_departure_apply, route_queued, unrouted_account_ids
from .services.previews import assignment_preview_compute, assignment_preview_failed
from .services.scenarios import scenario_apply, scenario_apply_failed, scenario_run, scenario_run_failed


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


@shared_task(acks_late=True)
def scenario_run_task(job_id: int) -> None:
    """Balance a territory scenario. Safe to re-run: its proposal is replaced."""
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    scenario = Scenario.objects.filter(pk=(job.params.get("scenario_id") if job else None)).first()
    if job is None or scenario is None or job.status == Job.Status.SUCCEEDED:
        return

    def work(job: Job) -> dict:
        result = scenario_run(scenario=scenario, job=job)
        return {
            "summary": {
                "accounts considered": result["considered"],
                "accounts that would change owner or territory": result["accounts_changing"],
                "balancer": result["message"],
            }
        }

    job_run(job=job, work=work)
    if job.status == Job.Status.FAILED:
        scenario_run_failed(scenario_id=scenario.pk)


@shared_task(acks_late=True)
def scenario_apply_task(job_id: int) -> None:
    """Apply a territory scenario. Safe to re-run: what is applied already is found unchanged."""
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    scenario = Scenario.objects.filter(pk=(job.params.get("scenario_id") if job else None)).first()
    if job is None or scenario is None or job.status == Job.Status.SUCCEEDED:
        return
    job_run(job=job, work=lambda job: {"summary": scenario_apply(scenario=scenario, user=job.created_by, job=job)})
    if job.status == Job.Status.FAILED:
        scenario_apply_failed(scenario_id=scenario.pk)


@shared_task(acks_late=True)
def hand_over_task(job_id: int) -> None:
    """Hand a departing rep's accounts over. Safe to re-run: a second run finds nothing left to move."""
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status == Job.Status.SUCCEEDED:
        return
    membership = Membership.objects.select_related("user", "territory").filter(pk=job.params.get("membership_id"))

    def work(job: Job) -> dict:
        plan, result = membership_departure_apply(user=job.created_by, membership=membership.get(), job=job)
        return {
            "summary": {
                "accounts handed over": result.moved,
                "left without an owner (no member with room)": plan.unassigned,
                "skipped (changed meanwhile)": result.skipped,
                "open handoffs that follow their accounts": len(plan.handoffs),
            }
        }

    job_run(job=job, work=work)


@shared_task(acks_late=True)
def assignment_preview_task(job_id: int) -> None:
    """Prepare an assignment preview. Safe to re-run: its moves are stored again."""
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    preview_id = job.params.get("preview_id") if job else None
    preview = AssignmentPreview.objects.select_related("created_by").filter(pk=preview_id).first()
    if job is None or preview is None or job.status == Job.Status.SUCCEEDED:
        return

    def work(job: Job) -> dict:
        done = assignment_preview_compute(preview=preview, job=job)
        return {
            "summary": {
                "accounts considered": done.considered,
                "would move": done.move_count,
                "would stay unassigned": done.unassigned,
                "outside your territories": done.outside_scope,
            }
        }

    job_run(job=job, work=work)
    if job.status == Job.Status.FAILED:
        assignment_preview_failed(preview_id=preview.pk)
