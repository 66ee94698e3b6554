"""Writes about accounts and what hangs off them (contacts, opportunities), and imports run as jobs.

Each write takes the object its caller already checked access to, locks the row, writes only the fields that
changed, and tells `changes.py` what the change means (rescore the account; route it when no territory was given).
Signals arrive in batches through the importer (imports/), which tells `changes.py` the same.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import transaction

from core.jobs import job_create, job_fail, job_progress, job_start, job_succeed
from core.models import Job
from core.services import row_update

from .changes import accounts_changed, owners_changed, won_deals_changed, won_state
from .events import owner_changes_record
from .imports import ImportFileError, file_header, import_file, reason_in_words, rejected_rows_write
from .merge import account_merge  # noqa: F401  (the merge service lives in merge.py)
from .models import Account, Contact, Opportunity


def _to_route(account: Account, values: dict) -> bool:
    """Routing places a changed account unless the change placed it itself: a territory given, with an owner."""
    return "territory" not in values or account.owner_id is None


@transaction.atomic
def account_create(*, values: dict) -> Account:
    """A new account, rescored and routed once committed (unless `values` places it in a territory, with an
    owner)."""
    account = Account.objects.create(**values)
    accounts_changed([account.pk], route=_to_route(account, values))
    return account


@transaction.atomic
def account_update(*, account: Account, values: dict, by=None) -> Account:
    """Change an account's fields (`by`: who, when a person did); a change is rescored, and routed again unless it
    places the account itself (a territory, with an owner); an owner change takes the account's pending handoffs with
    it and is an owner.changed event."""
    before: dict = {}
    account, changed = row_update(account, values, check=lambda locked: before.update(owner=locked.owner_id))
    if changed:
        accounts_changed([account.pk], route=_to_route(account, values))
    if "owner" in changed:
        owners_changed([account.pk])  # its pending handoffs follow it
        owner_changes_record([(account.pk, before["owner"], "edited")], actor_id=getattr(by, "pk", None))
    return account


@transaction.atomic
def account_delete(*, account: Account) -> None:
    account.delete()  # its scores, contacts and signals go with it


@transaction.atomic
def contact_create(*, values: dict) -> Contact:
    contact = Contact.objects.create(**values)
    accounts_changed([contact.account_id])  # its persona may engage the buying group
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, values: dict) -> Contact:
    before = contact.account_id
    contact, changed = row_update(contact, values)
    if changed:
        accounts_changed({before, contact.account_id})
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    account_id = contact.account_id
    contact.delete()
    accounts_changed([account_id])


@transaction.atomic
def opportunity_create(*, values: dict) -> Opportunity:
    opportunity = Opportunity.objects.create(**values)
    if opportunity.is_won:
        won_deals_changed([opportunity.account_id])
    return opportunity


@transaction.atomic
def opportunity_update(*, opportunity: Opportunity, values: dict) -> Opportunity:
    before = won_state(opportunity)
    opportunity = row_update(opportunity, values)[0]
    after = won_state(opportunity)
    if before != after and (before[1] or after[1]):  # a won deal appeared, went, moved account or changed date
        won_deals_changed([before[0], after[0]])
    return opportunity


@transaction.atomic
def opportunity_delete(*, opportunity: Opportunity) -> None:
    account_id, won = opportunity.account_id, opportunity.is_won
    opportunity.delete()
    if won:
        won_deals_changed([account_id])


def _imports_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def import_file_store(*, source: IO[bytes] | str | Path) -> Path:
    """Keep a copy of an uploaded or named file where the import job (and its worker) will read it."""
    stored = _imports_dir() / f"{uuid.uuid4().hex}.csv"
    if isinstance(source, str | Path):
        shutil.copyfile(source, stored)
    else:
        with stored.open("wb") as out:
            if hasattr(source, "chunks"):
                for block in source.chunks():
                    out.write(block)
            else:
                shutil.copyfileobj(source, out)
    return stored


def import_file_stored(*, token: str) -> Path | None:
    """The stored file for a token from import_file_store (None if it is gone or the token is not one of ours)."""
    if not token or not all(c in "0123456789abcdef" for c in token) or len(token) != 32:
        return None
    path = _imports_dir() / f"{token}.csv"
    return path if path.is_file() else None


def import_job_create(
    *,
    kind: str,
    source: IO[bytes] | str | Path,
    filename: str,
    mapping: dict[str, list[str]] | None = None,
    dry_run: bool = False,
    created_by=None,
    stored: Path | None = None,
    complete: bool = False,
) -> Job:
    """Record an import as a queued job; `stored` is a file kept by import_file_store, else `source` is copied.
    `complete`: `mapping` is the whole mapping, as the upload page's person chose it (imports.final_mapping)."""
    stored = stored or import_file_store(source=source)
    title = f"{kind.capitalize()} from {Path(filename).name}" + (" (dry run)" if dry_run else "")
    params = {"kind": kind, "path": str(stored), "filename": filename, "mapping": mapping or {}, "dry_run": dry_run}
    if complete:
        params["complete"] = True
    return job_create(kind=Job.Kind.IMPORT, created_by=created_by, title=title[:200], params=params)


REJECTS_KEY = "rejected_rows_file"  # in an import job's result: the file of its rejected rows, in the imports folder


def import_rejects_path(*, job: Job) -> Path | None:
    """The file where an import job keeps its rejected rows as uploaded (imports.rejected_rows_write), if it has
    one."""
    name = job.result.get(REJECTS_KEY) if isinstance(job.result, dict) else None
    if not isinstance(name, str) or not re.fullmatch(r"rejected-\d+-[0-9a-f]{32}\.csv", name):
        return None
    path = _imports_dir() / name
    return path if path.is_file() else None


def _rejects_keep(*, job: Job, report) -> str:
    """Keep the rejected rows of the job's file, as uploaded, with their line and reason in words, before the file
    goes: the job page offers them for download. Returns the name of the file kept."""
    kind, path = job.params["kind"], Path(job.params["path"])
    reasons: dict[int, str] = {}
    for error in report.errors:
        reason = reason_in_words(kind, error.reason)
        reasons[error.line] = f"{reasons[error.line]}; {reason}" if error.line in reasons else reason
    name = f"rejected-{job.pk}-{uuid.uuid4().hex}.csv"
    rejected_rows_write(source=path, header=file_header(path), reasons=reasons, target=_imports_dir() / name)
    return name


def import_job_run(*, job: Job) -> Job:
    """Run an import job to the end; file-level problems fail the job with the reason, row problems are listed."""
    params = job.params
    job_start(job=job)
    last = {"done": -1}

    def progress(done: int, total: int) -> None:
        if done != last["done"]:
            last["done"] = done
            job_progress(job=job, done=done, total=total)

    try:
        report = import_file(
            kind=params["kind"],
            path=params["path"],
            mapping=params.get("mapping") or None,
            dry_run=bool(params.get("dry_run")),
            progress=progress,
            complete=bool(params.get("complete")),
        )
    except ImportFileError as exc:
        job_fail(job=job, error=str(exc))
        return job
    except Exception as exc:
        job_fail(job=job, error=f"The import stopped: {type(exc).__name__}: {exc}")
        raise
    result = report.as_dict()
    if report.errors:
        try:
            result[REJECTS_KEY] = _rejects_keep(job=job, report=report)
        except OSError as exc:  # the rows were imported: the job succeeds, its page lists the reasons
            result["notes"].append(f"The rejected rows could not be kept for download ({exc.strerror or exc}).")
    job_succeed(job=job, result=result)
    if not report.dry_run:
        # The copy has served its purpose; a dry run keeps it so the same file can then be imported for real.
        Path(params["path"]).unlink(missing_ok=True)
    return job


def import_job_enqueue(*, job: Job) -> None:
    """Start the job's task once the job row is committed, so a worker always finds it."""
    from .tasks import import_csv_task

    transaction.on_commit(lambda: import_csv_task.delay(job.pk))


TOPIC_SURGES_TITLE = "Topic surges"


def topic_surges_job_start(*, user=None) -> Job:
    """Queue a refresh of every account's topic surges (accounts/topics.py) as a job; its task starts once the job
    row is committed."""
    from .tasks import topic_surges_task

    job = job_create(kind=Job.Kind.OTHER, created_by=user, title=TOPIC_SURGES_TITLE)
    transaction.on_commit(lambda: topic_surges_task.delay(job.pk))
    return job
