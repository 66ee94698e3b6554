"""Services that move a Job through its life; every long task reports through these."""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
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
    job.progressed_at = job.started_at
    fields = ["status", "started_at", "finished_at", "error", "done", "progressed_at"]
    if total is not None:
        job.total = total
        fields.append("total")
    job.save(update_fields=fields)


def job_progress(*, job: Job, done: int, total: int | None = None) -> None:
    job.done = done
    job.progressed_at = timezone.now()
    fields = ["done", "progressed_at"]
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


# Jobs that heal. A worker killed mid-task (a deploy, the machine lost) leaves its job queued or running for ever; the
# beat runs `jobs_heal` every few minutes. A job with no sign of life (progressed_at, else started_at, else
# created_at) for settings.JOB_STUCK_MINUTES is resumed when its kind can resume (an app registers how, e.g. the
# rescore: its undone slices are queued again), and failed with the reason otherwise, so its user can start it again.

log = logging.getLogger(__name__)
RESUMERS: dict[str, Callable[[Job], object]] = {}
MAX_RESUMES = 3


def job_resumer_register(kind: str, resume: Callable[[Job], object]) -> None:
    """`resume(job)` runs a stopped job of this kind to its end (raising ValidationError when it cannot)."""
    RESUMERS[kind] = resume


def jobs_heal(*, now: dt.datetime | None = None) -> dict[str, list[int]]:
    """Resume or fail the jobs stuck for settings.JOB_STUCK_MINUTES; returns their ids by what was done."""
    now = now or timezone.now()
    silent_since = now - dt.timedelta(minutes=settings.JOB_STUCK_MINUTES)
    healed: dict[str, list[int]] = {"resumed": [], "failed": []}
    stuck = (
        Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
        .annotate(alive_at=Coalesce(F("progressed_at"), F("started_at"), F("created_at")))
        .filter(alive_at__lt=silent_since)
        .values_list("pk", flat=True)
    )
    for pk in list(stuck):
        with transaction.atomic():
            job = Job.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if job is None or job.is_finished:
                continue
            minutes = settings.JOB_STUCK_MINUTES
            resumes = int(job.params.get("resumed", 0))
            resume = RESUMERS.get(job.kind)
            reason = f"Stopped: no progress for {minutes} minutes (the worker running it was lost)."
            if resume is not None and resumes < MAX_RESUMES:
                job.params = {**job.params, "resumed": resumes + 1}
                job.progressed_at = now
                job.save(update_fields=["params", "progressed_at"])
                try:
                    resume(job)
                except ValidationError as exc:
                    job_fail(job=job, error=f"{reason} It could not be resumed: {' '.join(exc.messages)}")
                    healed["failed"].append(pk)
                else:
                    healed["resumed"].append(pk)
                    log.warning("job %s (%s) had no progress for %s minutes: resumed", pk, job.kind, minutes)
                continue
            if resume is not None:
                reason = f"{reason} Resumed {resumes} times without finishing: start it again."
            else:
                reason = f"{reason} Start it again."
            job_fail(job=job, error=reason)
            healed["failed"].append(pk)
            log.warning("job %s (%s) had no progress for %s minutes: failed", pk, job.kind, minutes)
    return healed


# What a job's result says, in words, for its page. A job's `result` keeps figures under short keys for programs (the
# API, the command line); its page shows labels and formatted values. The app that runs a kind of job may describe
# its results itself (an import: its reasons in words, its rejected rows to download): it registers how, as resumers
# are registered, since core imports no app.

RESULT_LABELS = {
    "kind": "What",
    "dry_run": "Dry run",
    "rows": "Rows read",
    "created": "Created",
    "updated": "Updated",
    "unchanged": "Unchanged",
    "failed": "Not imported",
    "version": "Model version",
}
ERRORS_SHOWN = 200
RESULT_DESCRIBERS: dict[str, Callable[[Job], dict]] = {}


def job_result_describer_register(kind: str, describe: Callable[[Job], dict]) -> None:
    """`describe(job)` -> the parts of `job_result_view` it words itself (any of: summary, notes, errors,
    error_count, download_url)."""
    RESULT_DESCRIBERS[kind] = describe


def result_value_text(value) -> str:
    """A result's value as a page shows it: yes/no, whole numbers with thousands separators."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def result_label(key: str) -> str:
    label = RESULT_LABELS.get(key) or str(key).replace("_", " ").strip()
    return label[:1].upper() + label[1:]


def job_result_view(job: Job) -> dict:
    """The job's result for its page: {summary: [(label, text)], notes, errors: [(line, reason)] (the first
    ERRORS_SHOWN), error_count, download_url (None: the generic list of lines and reasons)}."""
    result = job.result if isinstance(job.result, dict) else {}
    summary = result.get("summary") if isinstance(result.get("summary"), dict) else {}
    errors = result.get("errors") if isinstance(result.get("errors"), list) else []
    view = {
        "summary": [(result_label(key), result_value_text(value)) for key, value in summary.items()],
        "notes": [str(note) for note in result.get("notes") or []],
        "errors": [tuple(error) for error in errors[:ERRORS_SHOWN]],
        "error_count": len(errors),
        "download_url": None,
    }
    describe = RESULT_DESCRIBERS.get(job.kind)
    if describe is not None:
        view.update(describe(job))
    return view
