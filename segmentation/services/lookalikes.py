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
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.changes import accounts_changed
from accounts.models import Account, PendingLookalike
from core.jobs import job_create, job_run
from core.models import Job

from .. import lookalike as L
from ..models import Lookalike, LookalikeRun, ScoringModel

CHUNK = 50_000
BACKSLASH = "\\"
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


# Each account's trait columns, computed where the accounts are (PostgreSQL), exactly as lookalike.account_traits
# reads them: text trimmed and lower-cased, head counts and revenue in power-of-ten bands, years in decades, attribute
# values as text (yes/no, numbers without trailing zeros). Arrays are the vocabulary's (lookalike.lookup_arrays).
TRAIT_COLUMNS_SQL = """array_remove(ARRAY[
  (%(industry_cols)s::int[])[array_position(%(industry_keys)s::text[], lower(btrim(a.industry, E' \\t\\n\\r\\f\\v')))],
  (%(country_cols)s::int[])[array_position(%(country_keys)s::text[], lower(btrim(a.country, E' \\t\\n\\r\\f\\v')))],
  CASE WHEN a.employee_count >= 1
    THEN (%(employees_cols)s::int[])[1 + least(floor(log(a.employee_count::float8))::int, %(top_band)s)] END,
  CASE WHEN a.annual_revenue > 0 THEN (%(revenue_cols)s::int[])[1 + (a.annual_revenue >= 1e6)::int
    + (a.annual_revenue >= 1e7)::int + (a.annual_revenue >= 1e8)::int + (a.annual_revenue >= 1e9)::int] END,
  CASE WHEN a.year_founded BETWEEN 1000 AND 2100
    THEN (%(founded_cols)s::int[])[array_position(%(founded_keys)s::int[], (a.year_founded / 10) * 10)] END
] || ARRAY(
  SELECT (%(tech_cols)s::int[])[array_position(%(tech_keys)s::text[], lower(btrim(t, E' \\t\\n\\r\\f\\v')))]
  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(a.technologies) = 'array' THEN a.technologies ELSE '[]' END) e,
  LATERAL (SELECT CASE WHEN jsonb_typeof(e) = 'string' THEN e #>> '{}' END AS t) x
){attributes}, NULL)"""
ATTRIBUTE_COLUMNS_SQL = """ || ARRAY(
  SELECT x.col FROM unnest(%(attr_keys)s::text[], %(attr_values)s::text[], %(attr_cols)s::int[]) x(k, v, col)
  WHERE CASE jsonb_typeof(a.attributes -> x.k)
    WHEN 'string' THEN lower(btrim(a.attributes ->> x.k, E' \\t\\n\\r\\f\\v'))
    WHEN 'boolean' THEN CASE WHEN (a.attributes ->> x.k)::boolean THEN 'yes' ELSE 'no' END
    WHEN 'number' THEN trim_scale((a.attributes ->> x.k)::numeric)::text
  END = x.v
)"""


def _read_chunk(after: int, size: int, vocabulary: L.Vocabulary) -> tuple[np.ndarray, list, sp.csr_matrix]:
    """The next `size` accounts after id `after`: their ids, stored lookalike scores, and traits (unscaled)."""
    if connection.vendor != "postgresql":
        rows = list(Account.objects.filter(pk__gt=after).order_by("pk").values(*READ_COLUMNS)[:size])
        ids = np.array([r["id"] for r in rows], dtype=np.int64)
        return ids, [r["lookalike"] for r in rows], L.encode(rows, vocabulary)
    arrays = L.lookup_arrays(vocabulary)
    columns = TRAIT_COLUMNS_SQL.replace("{attributes}", ATTRIBUTE_COLUMNS_SQL if arrays["attr_cols"] else "")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.id, a.lookalike, {columns} FROM {Account._meta.db_table} a "  # noqa: S608  # nosec B608  # the model's table and constant SQL; values are parameters
            "WHERE a.id > %(after)s ORDER BY a.id LIMIT %(size)s",
            {**arrays, "top_band": len(L.EMPLOYEE_BANDS) - 1, "after": after, "size": size},
        )
        found = cursor.fetchall()
    ids = np.fromiter((r[0] for r in found), dtype=np.int64, count=len(found))
    return ids, [r[1] for r in found], L.matrix_from_columns([r[2] for r in found], vocabulary)


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
        # One buffer in COPY's text format: JSON holds no raw tab or newline, only backslashes to double.
        double = BACKSLASH * 2
        lines = "".join(
            f"{a}\t{s!r}\t{n.replace(BACKSLASH, double)}\t{t.replace(BACKSLASH, double)}\t{at.isoformat()}\n"
            for a, s, n, t, at in rows
        )
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            copy.write(lines)
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
    # On PostgreSQL, past one chunk, reading the next chunk and writing the last one run in threads of their own
    # (each with its own connection) while this one scores: the database encodes and stores as Python computes.
    pipelined = connection.vendor == "postgresql" and total > chunk
    reader = ThreadPoolExecutor(max_workers=1) if pipelined else None
    writer = ThreadPoolExecutor(max_workers=1) if pipelined else None
    written: Future | None = None

    def read(after: int):
        return _read_chunk(after, chunk, reference.vocabulary)

    def write(ids, changed, new, first, last, reasons) -> None:
        with transaction.atomic():
            _write_scores(ids[changed], None if new is None else new[changed])
            _write_reasons(first, last, reasons)
            if rescore and changed.any():
                accounts_changed(ids[changed].tolist())

    try:
        pending = reader.submit(read, last) if reader else None
        while True:
            ids, old, traits = pending.result() if pending else read(last)
            if not len(ids):
                break
            first, last = last, int(ids[-1])
            if reader:
                pending = reader.submit(read, last)
            scored = L.score_matrix(ids, L.unit_rows(traits), reference) if has_reference else None
            new = scored.scores if scored is not None else None
            changed = _changed(old, new)
            reasons = []
            if scored is not None:
                for i, account_id in enumerate(ids.tolist()):
                    neighbours = ",".join(neighbour_json[p] for p in scored.neighbours[i] if p >= 0)
                    shared = ",".join(trait_json[c] for c in scored.shared[i])
                    reasons.append((account_id, float(scored.scores[i]), f"[{neighbours}]", f"[{shared}]", now))
            if writer:
                if written:
                    written.result()  # one chunk in flight: memory stays flat, errors surface here
                written = writer.submit(write, ids, changed, new, first, last, reasons)
            else:
                write(ids, changed, new, first, last, reasons)
            done += len(ids)
            changed_count += int(changed.sum())
            if progress:
                progress(done, max(total, done))
        if written:
            written.result()
    finally:
        for pool in (reader, writer):
            if pool:
                pool.submit(connections.close_all).result()  # the thread's own connection
                pool.shutdown()
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
