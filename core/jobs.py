"""Services that move a Job through its life; every long task reports through these."""

from __future__ import annotations

import traceback
from collections.abc import Callable

from django.utils import timezone

from .models import Job


def job_create(
    *, kind: str, created_by=None, title: str = "", params: dict | None = None, total: int | None = None
) -> Job:
    return Job.objects.create(kind=kind, title=title, created_by=created_by, params=params or {}, total=total)


def job_start(*, job: Job, total: int | None = None) -> None:
    job.status = Job.Status.RUNNING
    job.started_at = timezone.now()
    job.finished_at = None
    job.error = ""
    job.done = 0
    fields = ["status", "started_at", "finished_at", "error", "done"]
    if total is not None:
        job.total = total
        fields.append("total")
    job.save(update_fields=fields)


def job_progress(*, job: Job, done: int, total: int | None = None) -> None:
    job.done = done
    fields = ["done"]
    if total is not None:
        job.total = total
        fields.append("total")
    job.save(update_fields=fields)


def job_succeed(*, job: Job, result: dict | None = None) -> None:
    job.status = Job.Status.SUCCEEDED
    job.finished_at = timezone.now()
    if job.total is not None:
        job.done = job.total
    job.result = result if result is not None else job.result
    job.save(update_fields=["status", "finished_at", "done", "result"])


def job_fail(*, job: Job, error: str, result: dict | None = None) -> None:
    job.status = Job.Status.FAILED
    job.finished_at = timezone.now()
    job.error = error
    if result is not None:
        job.result = result
    job.save(update_fields=["status", "finished_at", "error", "result"])


def job_run(*, job: Job, work: Callable[[Job], dict]) -> Job:
    """Run `work(job)` as the job's body: mark it running, then succeeded with its result, or failed with the error."""
    job_start(job=job)
    try:
        result = work(job)
    except Exception as exc:  # the job records any failure so the UI can show it; the caller re-raises nothing
        job_fail(job=job, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
        return job
    job_succeed(job=job, result=result)
    return job
