"""Writing CRM connections and starting their syncs as jobs."""

from __future__ import annotations

from django.db import transaction

from core.jobs import job_create, job_fail, job_start, job_succeed
from core.models import Job

from ..models import CrmConnection
from .adapter import CrmError
from .secrets import CredentialsError
from .sync import CrmSyncError, resume_words, run_sync
from .vendors import SECRET_KEYS, VENDOR_LABELS


def split_values(values: dict) -> tuple[dict, dict]:
    """(settings, credentials) of a vendor's values: the secret ones (vendors.SECRET_KEYS) are credentials."""
    settings = {k: v for k, v in values.items() if k not in SECRET_KEYS}
    credentials = {k: v for k, v in values.items() if k in SECRET_KEYS and v not in (None, "")}
    return settings, credentials


def connection_save(
    *, connection: CrmConnection | None = None, vendor: str, name: str, values: dict, **fields
) -> CrmConnection:
    """Create or update a connection. Credentials left blank keep the stored ones; raises CredentialsError when
    they cannot be encrypted (no key in production), saving nothing."""
    settings, credentials = split_values(values)
    with transaction.atomic():
        if connection is None:
            connection = CrmConnection(vendor=vendor)
            stored = {}
        else:
            connection = CrmConnection.objects.select_for_update().get(pk=connection.pk)
            stored = connection.credentials if connection.credentials_encrypted else {}
        connection.name = name
        connection.settings = {**(connection.settings or {}), **settings}
        for key, value in fields.items():
            setattr(connection, key, value)
        merged = {**stored, **credentials}
        if merged or connection.credentials_encrypted:
            connection.credentials_set(merged)
        connection.save()
    return connection


def connection_mapping_save(*, connection: CrmConnection, obj: str, mapping: dict) -> None:
    with transaction.atomic():
        locked = CrmConnection.objects.select_for_update().get(pk=connection.pk)
        settings = dict(locked.settings or {})
        settings["mapping"] = {**(settings.get("mapping") or {}), obj: mapping}
        locked.settings = settings
        locked.save(update_fields=["settings", "updated_at"])
    connection.settings = settings


def connection_delete(*, connection: CrmConnection) -> None:
    connection.delete()


def running_sync(connection: CrmConnection) -> Job | None:
    return (
        Job.objects.filter(
            kind=Job.Kind.CRM_SYNC,
            params__connection=connection.pk,
            status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
        )
        .order_by("-pk")
        .first()
    )


def sync_job_create(
    *, connection: CrmConnection, user=None, pull: bool = True, push: bool = True, confirm_push: bool = False,
    dry_run: bool = False,
) -> Job:  # fmt: skip
    what = " and ".join(w for w, on in (("pull", pull), ("push", push)) if on)
    title = f"{VENDOR_LABELS.get(connection.vendor, connection.vendor)} sync ({what}): {connection.name}"
    return job_create(
        kind=Job.Kind.CRM_SYNC,
        created_by=user,
        title=title[:200],
        params={
            "connection": connection.pk,
            "pull": pull,
            "push": push,
            "confirm_push": confirm_push,
            "dry_run": dry_run,
        },
    )


class SyncRunning(Exception):  # noqa: N818  # a refusal, said to the admin in words
    """A sync of this connection is already queued or running: `job` is it."""

    def __init__(self, job: Job):
        super().__init__(f"A sync of this connection is already running (job #{job.pk}).")
        self.job = job


def sync_start(*, connection: CrmConnection, user=None, enqueue: bool = True, **options) -> Job:
    """Start a sync of the connection as a job (queued for a worker, or left for the caller to run with `enqueue`
    False), unless one is already queued or running: SyncRunning then names it. The connection's row is locked while
    it looks, so two starts at once (a click, the scheduler, the command) make one job."""
    with transaction.atomic():
        CrmConnection.objects.select_for_update().filter(pk=connection.pk).exists()
        running = running_sync(connection)
        if running is not None:
            raise SyncRunning(running)
        job = sync_job_create(connection=connection, user=user, **options)
        if enqueue:
            sync_job_enqueue(job=job)
    return job


def sync_job_enqueue(*, job: Job) -> None:
    from ..tasks import crm_sync_task

    transaction.on_commit(lambda: crm_sync_task.delay(job.pk))


def sync_job_run(*, job: Job, out=None) -> Job:
    """Run a sync job to its end: succeeded with its figures and per-record errors, or failed with the reason in
    words and what was done before (kept: the next sync resumes from it)."""
    connection = CrmConnection.objects.filter(pk=job.params.get("connection")).first()
    job_start(job=job)
    if connection is None:
        job_fail(job=job, error="The connection was deleted.")
        return job
    try:
        result = run_sync(
            connection=connection,
            job=job,
            do_pull=job.params.get("pull", True),
            do_push=job.params.get("push", True),
            confirm_push=job.params.get("confirm_push", False),
            dry_run=job.params.get("dry_run", False),
            out=out,
        )
    except CrmSyncError as exc:
        connection.refresh_from_db()
        result = exc.result
        result.setdefault("notes", []).append(resume_words(connection))
        job_fail(job=job, error=f"The sync stopped: {exc}", result=result)
        return job
    except (CrmError, CredentialsError) as exc:
        job_fail(job=job, error=f"The sync could not start: {exc}")
        return job
    except Exception as exc:  # the job says why; what was committed stays and the next sync resumes from it
        connection.refresh_from_db()
        job_fail(job=job, error=f"The sync stopped: {type(exc).__name__}: {exc}. {resume_words(connection)}")
        raise
    job_succeed(job=job, result=result)
    return job
