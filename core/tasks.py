from celery import shared_task

from .jobs import jobs_heal

HEAL_TASK = "core.jobs_heal"


@shared_task(name=HEAL_TASK, acks_late=True)
def jobs_heal_task() -> dict[str, list[int]]:
    """Resume or fail the jobs stuck with no progress (core/jobs.py)."""
    return jobs_heal()
