"""Lookalike scores refreshed: every account scored against the accounts won in the period (segmentation/lookalike.py),
its score stored on the account (`Account.lookalike`, a criterion attribute) and its reasons in `Lookalike`.

- The reference set: accounts with a won opportunity closed in the last LOOKALIKE_PERIOD_DAYS days (a site setting,
  default 365), up to today.
- Accounts are read, scored and written in chunks of CHUNK ids, each chunk in its own transaction, so memory stays
  flat and edits to accounts wait for one chunk at most; a refresh killed midway is completed by the next one.
- On PostgreSQL the scores are written with one UPDATE ... FROM unnest(arrays) per chunk (only those that changed)
  and the reasons with COPY; elsewhere with the ORM's bulk writes.
- Accounts whose score changed go on the rescore queue when the active model reads `lookalike` (in its fit criteria
  or exclusions): no other score depends on it.
- Run nightly (beat), by an admin from the Lookalikes page, and when won deals change (the lookalike queue filled by
  accounts/changes.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.changes import accounts_changed
from accounts.models import Account, PendingLookalike
from core.jobs import job_create, job_run
from core.models import Job

from .. import lookalike as L
from ..models import Lookalike, LookalikeRun, ScoringModel

CHUNK = 50_000
CHANGED_BY = 0.05  # a score that moved less than this (half its last decimal) is unchanged
LOCK_KEY = 7_315_021  # PostgreSQL advisory lock: one refresh at a time
JOB_PARAMS = {"work": "lookalikes"}
READ_COLUMNS = ("id", "industry", "country", "employee_count", "annual_revenue", "year_founded", "technologies",
                "attributes", "lookalike")  # fmt: skip


def period_days() -> int:
    return settings.LOOKALIKE_PERIOD_DAYS


def reference_rows(*, today: dt.date | None = None) -> list[dict]:
    """The won accounts of the period, with their name and the year of their latest win in it."""
    today = today or timezone.now().date()
    since = today - dt.timedelta(days=period_days())
    won = Q(opportunities__is_won=True, opportunities__closed_on__gte=since, opportunities__closed_on__lte=today)
    rows = list(
        Account.objects.filter(won)
        .annotate(won_on=Max("opportunities__closed_on", filter=won))
        .order_by("pk")
        .values(*L.COLUMNS, "name", "won_on")
    )
    return rows


def model_reads_lookalike(model: ScoringModel | None) -> bool:
    if model is None:
        return False
    items = list(model.criteria or []) + list(model.exclusions or [])
    if not items and model.icp_id:  # a version published before criteria were frozen reads its ICP's
        items = list(model.icp.criteria or []) + list(model.icp.exclusions or [])
    return any(str(item.get("attribute", "")).strip() == "lookalike" for item in items)


def _read_chunk(after: int, size: int, *, attributes: bool) -> list[dict]:
    """The next `size` accounts after id `after`, as the scorer reads them."""
    if connection.vendor != "postgresql":
        return list(Account.objects.filter(pk__gt=after).order_by("pk").values(*READ_COLUMNS)[:size])
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, industry, country, employee_count, annual_revenue::float8, year_founded, "  # noqa: S608  # nosec B608  # the model's table; values are parameters
            f"technologies::text, {'attributes::text' if attributes else 'NULL'}, lookalike "
            f"FROM {table} WHERE id > %s ORDER BY id LIMIT %s",
            [after, size],
        )
        found = cursor.fetchall()
    loads = json.loads
    return [
        {
            "id": r[0],
            "industry": r[1],
            "country": r[2],
            "employee_count": r[3],
            "annual_revenue": r[4],
            "year_founded": r[5],
            "technologies": loads(r[6]) if r[6] else [],
            "attributes": loads(r[7]) if r[7] else None,
            "lookalike": r[8],
        }  # fmt: skip
        for r in found
    ]


def _changed(old: list, new: np.ndarray | None) -> np.ndarray:
    old_values = np.array([np.nan if v is None else v for v in old], dtype=np.float64)
    if new is None:
        return ~np.isnan(old_values)
    return np.isnan(old_values) | (np.abs(old_values - new) >= CHANGED_BY)


def _write_scores(ids: np.ndarray, scores: np.ndarray | None) -> None:
    if not len(ids):
        return
    if connection.vendor == "postgresql":
        table = Account._meta.db_table
        with connection.cursor() as cursor:
            if scores is None:
                cursor.execute(f"UPDATE {table} SET lookalike = NULL WHERE id = ANY(%s::bigint[])", [ids.tolist()])  # noqa: S608  # nosec B608  # the model's table
            else:
                cursor.execute(
                    f"UPDATE {table} a SET lookalike = v.score FROM unnest(%s::bigint[], %s::float8[]) v(id, score) "  # noqa: S608  # nosec B608  # the model's table; values are parameters
                    "WHERE a.id = v.id",
                    [ids.tolist(), scores.tolist()],
                )
        return
    values = [None] * len(ids) if scores is None else scores.tolist()
    Account.objects.bulk_update(
        [Account(pk=int(i), lookalike=v) for i, v in zip(ids.tolist(), values, strict=True)],
        ["lookalike"],
        batch_size=1000,
    )


def _write_reasons(first: int, last: int, rows: list[tuple]) -> None:
    """Replace the reasons of the accounts with ids in (first, last] by `rows` (account id, score, neighbours JSON,
    traits JSON, computed at)."""
    Lookalike.objects.filter(account_id__gt=first, account_id__lte=last).delete()
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = Lookalike._meta.db_table
        sql = f"COPY {table} (account_id, score, neighbours, traits, computed_at) FROM STDIN"  # nosec B608
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    Lookalike.objects.bulk_create(
        [
            Lookalike(account_id=a, score=s, neighbours=json.loads(n), traits=json.loads(t), computed_at=at)
            for a, s, n, t, at in rows
        ],
        batch_size=1000,
    )


class _Lock:
    """One refresh at a time on PostgreSQL (a session advisory lock, released even when the refresh fails)."""

    def __enter__(self):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        return self

    def __exit__(self, *exc):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        return False


def lookalikes_refresh(
    *,
    trigger: str,
    job: Job | None = None,
    progress: Callable[[int, int], None] | None = None,
    today: dt.date | None = None,
    chunk: int = CHUNK,
) -> LookalikeRun:
    """Score every account against the won accounts of the period; store scores and reasons; queue for rescoring
    the accounts whose score changed when the active model reads it. Idempotent."""
    with _Lock():
        return _refresh(trigger=trigger, job=job, progress=progress, today=today, chunk=chunk)


def _refresh(*, trigger, job, progress, today, chunk) -> LookalikeRun:
    now = timezone.now()
    run = LookalikeRun.objects.create(started_at=now, period_days=period_days(), trigger=trigger[:40], job=job)
    reference_list = reference_rows(today=today)
    reference = L.reference_build(reference_list)
    has_reference = reference.size > 0
    rescore = model_reads_lookalike(
        ScoringModel.objects.select_related("icp").filter(status=ScoringModel.Status.ACTIVE).first()
    )
    # Words prepared once: each trait column and each won account as JSON.
    trait_json = [json.dumps(label, ensure_ascii=False) for label in reference.vocabulary.labels]
    neighbour_json = [
        json.dumps([r["id"], r["name"], r["won_on"].year if r["won_on"] else None], ensure_ascii=False)
        for r in reference_list
    ]
    total = Account.objects.count()
    done = changed_count = 0
    last = 0
    while True:
        rows = _read_chunk(last, chunk, attributes=bool(reference.vocabulary.attribute_keys))
        if not rows:
            break
        first, last = last, rows[-1]["id"]
        ids = np.array([r["id"] for r in rows], dtype=np.int64)
        old = [r["lookalike"] for r in rows]
        scored = L.score_rows(rows, reference) if has_reference else None
        new = scored.scores if scored is not None else None
        changed = _changed(old, new)
        reasons = []
        if scored is not None:
            for i, account_id in enumerate(scored.ids.tolist()):
                neighbours = "[" + ",".join(neighbour_json[p] for p in scored.neighbours[i] if p >= 0) + "]"
                traits = "[" + ",".join(trait_json[c] for c in scored.shared[i]) + "]"
                reasons.append((account_id, float(scored.scores[i]), neighbours, traits, now))
        with transaction.atomic():
            _write_scores(ids[changed], None if new is None else new[changed])
            _write_reasons(first, last, reasons)
            if rescore and changed.any():
                accounts_changed(ids[changed].tolist())
        done += len(rows)
        changed_count += int(changed.sum())
        if progress:
            progress(done, max(total, done))
    Lookalike.objects.filter(account_id__gt=last).delete()  # accounts gone since
    run.finished_at = timezone.now()
    run.won_accounts = reference.size
    run.accounts = done
    run.changed = changed_count
    run.save(update_fields=["finished_at", "won_accounts", "accounts", "changed"])
    return run


def lookalikes_job_start(*, user, trigger: str = "") -> Job:
    """A refresh as a job (the Lookalikes page's button)."""
    from ..tasks import lookalikes_job_task

    job = job_create(kind=Job.Kind.OTHER, created_by=user, title="lookalike refresh", params=dict(JOB_PARAMS))
    transaction.on_commit(lambda: lookalikes_job_task.delay(job.pk))
    return job


def lookalikes_job_run(job_id: int) -> None:
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status == Job.Status.SUCCEEDED:
        return

    def work(job: Job) -> dict:
        def progress(done: int, total: int) -> None:
            Job.objects.filter(pk=job.pk).update(done=done, total=total, progressed_at=timezone.now())

        who = job.created_by.get_username() if job.created_by else "an admin"
        run = lookalikes_refresh(trigger=f"run by {who}", job=job, progress=progress)
        return {"won_accounts": run.won_accounts, "accounts": run.accounts, "changed": run.changed}

    job_run(job=job, work=work)


def lookalikes_queued() -> int:
    """Drain the lookalike queue (won deals changed): one refresh for the whole burst. The entries are removed only
    once the refresh is done, and only those queued before it began (a later change waits for the next one), so a
    refresh lost with its worker leaves them for the next drain. Returns the accounts taken."""
    began = timezone.now()
    if not PendingLookalike.objects.filter(requested_at__lte=began).exists():
        return 0
    lookalikes_refresh(trigger="won deals changed")
    taken, _ = PendingLookalike.objects.filter(requested_at__lte=began).delete()
    return taken


def lookalike_latest_run() -> LookalikeRun | None:
    return LookalikeRun.objects.filter(finished_at__isnull=False).order_by("-finished_at", "-id").first()
