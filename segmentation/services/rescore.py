"""Full rescores: a job in slices of accounts that any number of workers share, or that `rescore --sync` runs
itself."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from accounts.models import Account, Signal
from core.jobs import job_create
from core.models import Job
from core.tiers import Tier

from ..engine import Plan, Selection, score_and_store
from ..models import AccountScore, RescoreChunk, ScoringModel
from ..selectors import active_model
from .qualify import after_scoring

CHUNK_ACCOUNTS = 20_000


ANALYZE_AFTER = 10_000  # accounts: a rescore this big refreshes the score table's statistics at its end


def _chunk_bounds(size: int) -> list[tuple[int, int | None, int]]:
    """[(lo, hi, accounts)] covering every account id; the last slice is open-ended for accounts added later."""
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM {table}) t "  # noqa: S608  # nosec B608  # SQL from model table names and constants; every value is a parameter, never input
            "WHERE n %% %s = 1 ORDER BY id",
            [size],
        )
        starts = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608  # nosec B608  # SQL from model table names and constants; every value is a parameter, never input
        total = cursor.fetchone()[0]
    if not starts:
        return [(0, None, 0)]
    bounds = []
    for number, start in enumerate(starts):
        lo = 0 if number == 0 else start
        hi = starts[number + 1] if number + 1 < len(starts) else None
        accounts = size if hi is not None else total - size * (len(starts) - 1)
        bounds.append((lo, hi, accounts))
    return bounds


# What scoring a signal costs a full rescore beside storing an account (its score, placement and index entries), in
# accounts. bench/rescore.py at a million accounts and ten million signals: with signals and accounts weighed equally,
# slices took from 4.0 s (44,000 accounts) to 8.6 s (158,000) and the two workers ended 2.2 s apart; with this
# weight, from 6.6 s to 8.5 s, ending 0.1 s apart.
SIGNAL_COST = 1 / 50


def rescore_slices() -> list[tuple[int, int | None]]:
    """Account id ranges [lo, hi) for a full rescore, covering every id (the last is open-ended).

    On PostgreSQL there are settings.RESCORE_SLICES of them (the workers take them one at a time); a slice reads
    only its own accounts' signals (a range of the covering index). Its cost is its accounts (each is scored and its
    score, placement and index entries written) plus its signals at SIGNAL_COST of an account each, so the cuts give
    every slice an equal share of that cost, read from PostgreSQL's statistics (an equal-height histogram of
    signal.account_id and the signals' estimated count; accounts' ids are taken as dense). Elsewhere, slices of
    CHUNK_ACCOUNTS accounts.
    """
    if connection.vendor != "postgresql":
        return [(lo, hi) for lo, hi, _ in _chunk_bounds(CHUNK_ACCOUNTS)]

    parts = max(1, int(getattr(settings, "RESCORE_SLICES", 8)))
    signal_table, account_table = Signal._meta.db_table, Account._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT histogram_bounds::text::bigint[], most_common_vals::text::bigint[], most_common_freqs "
            "FROM pg_stats WHERE tablename = %s AND attname = 'account_id'",
            [signal_table],
        )
        row = cursor.fetchone()
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [signal_table])
        signals = max(0.0, float((cursor.fetchone() or [0])[0] or 0))
        cursor.execute(f"SELECT min(id), max(id), count(*) FROM {account_table}")  # noqa: S608  # nosec B608  # SQL from model table names and constants; every value is a parameter, never input
        low, high, accounts = cursor.fetchone()
    if parts == 1 or not accounts:
        return [(0, None)]
    span = max(1, high - low + 1)
    bounds, common, freqs = row if row else (None, None, None)
    common, freqs = common or [], freqs or []
    if not bounds and not common:  # no statistics yet: equal numbers of accounts
        return _ranges([low + span * k // parts for k in range(1, parts)])
    # Cost below id x, in accounts: those below x (dense ids) plus the signals below x at SIGNAL_COST each. The
    # statistics give the signals' accounts as the most common ones with their shares, and an equal-height histogram
    # of the rest (linear within a bucket). It grows with x: each cut is found by bisection.
    weight, last, rest = signals * SIGNAL_COST, len(bounds or []) - 1, 1.0 - sum(freqs)
    bounds = bounds or []
    pairs = sorted(zip(common, freqs, strict=True))
    values, shares = [v for v, _ in pairs], list(itertools.accumulate(f for _, f in pairs))

    def below(x: int) -> float:
        j = bisect.bisect_left(values, x)  # the most common accounts below x
        share = shares[j - 1] if j else 0.0
        i = bisect.bisect_right(bounds, x)
        if last > 0 and i > last:
            share += rest
        elif last > 0 and i > 0:
            lo_b, hi_b = bounds[i - 1], bounds[i]
            share += rest * (i - 1 + (x - lo_b) / max(1, hi_b - lo_b)) / last
        return weight * share + accounts * min(1.0, max(0.0, (x - low) / span))

    total = below(high + 1)
    cuts = []
    for k in range(1, parts):
        lo_x, hi_x = low, high + 1
        while lo_x < hi_x:  # the first id whose cost below reaches k/parts of the total
            mid = (lo_x + hi_x) // 2
            if below(mid) >= total * k / parts:
                hi_x = mid
            else:
                lo_x = mid + 1
        cuts.append(lo_x)
    return _ranges(cuts)


def _ranges(cuts: list[int]) -> list[tuple[int, int | None]]:
    cuts = sorted({c for c in cuts if c > 0})
    return list(zip([0, *cuts], [*cuts, None], strict=True))


def sliced_job_create(*, model: ScoringModel, user, title: str, as_of: dt.datetime, **params) -> Job:
    """A pass of `model` over every account as of `as_of`, recorded as a rescore job with the slices the workers
    share (each with its account count); `params` join the job's."""
    slices = [
        RescoreChunk(lo=lo, hi=hi, accounts=Selection(lo=lo, hi=hi).filter(Account.objects.all()).count())
        for lo, hi in rescore_slices()
    ]
    job = job_create(
        kind=Job.Kind.RESCORE,
        created_by=user,
        title=title,
        params={"model_id": model.pk, "version": model.version, "as_of": as_of.isoformat(), **params},
        total=sum(s.accounts for s in slices),
    )
    for number, step in enumerate(slices):
        step.job, step.number = job, number
    RescoreChunk.objects.bulk_create(slices)
    return job


def rescore_job_start(
    *,
    model: ScoringModel | None = None,
    user=None,
    as_of: dt.datetime | None = None,
    title: str = "rescore",
    enqueue: bool = True,
) -> Job:
    """Record a full rescore (every account, one `as_of`) and hand its slices to the workers once committed; with
    `enqueue=False` nothing is handed to the workers: the caller runs the slices itself (`rescore --sync`), so no
    worker scores the same slices at the same time."""
    model = model or active_model()
    if model is None:
        raise ValidationError("There is no active scoring model to score with: publish one first.")
    job = sliced_job_create(
        model=model, user=user, title=f"{title}: {model.name} v{model.version}", as_of=as_of or timezone.now()
    )
    if enqueue:
        rescore_job_enqueue(job)
    return job


def shadow_job_start(*, model: ScoringModel, user=None, as_of: dt.datetime | None = None) -> Job:
    """Record the shadow version's first pass over every account (slices the workers share, as a rescore's) and
    queue it once the caller's transaction commits."""
    job = sliced_job_create(
        model=model,
        user=user,
        title=f"shadow: {model.name} v{model.version}",
        as_of=as_of or timezone.now(),
        shadow=True,
    )
    rescore_job_enqueue(job)
    return job


def rescore_job_enqueue(job: Job) -> None:
    """Queue the undone slices once the caller's transaction commits."""
    from ..tasks import rescore_chunk_task

    numbers = list(RescoreChunk.objects.filter(job=job, done_at__isnull=True).values_list("number", flat=True))
    transaction.on_commit(lambda: [rescore_chunk_task.delay(job.pk, n) for n in numbers])


def rescore_job_resume(job: Job) -> int:
    """Run a stopped rescore (a killed worker, a failed slice) to its end: its undone slices are queued again."""
    if job.kind != Job.Kind.RESCORE:
        raise ValidationError("Only rescore jobs can be resumed.")
    undone = RescoreChunk.objects.filter(job=job, done_at__isnull=True).count()
    if job.status == Job.Status.SUCCEEDED:
        raise ValidationError("This rescore has already finished.")
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, error="", finished_at=None, progressed_at=timezone.now()
    )
    if undone == 0 and job.params.get("shadow"):
        from .shadow import shadow_job_finish

        model = ScoringModel.objects.filter(pk=job.params["model_id"]).first()
        if model is None:
            raise ValidationError("This version no longer exists.")
        shadow_job_finish(job.pk, model)
        return 0
    if undone == 0:  # stopped after its last slice, before its capacity and MQA passes
        model = ScoringModel.objects.filter(pk=job.params["model_id"], status=ScoringModel.Status.ACTIVE).first()
        if model is None:
            raise ValidationError("This version is no longer active: the newer version's rescore replaces this one.")
        _rescore_finish(job.pk, model)
        return 0
    rescore_job_enqueue(job)
    return undone


def rescore_chunk_run(job_id: int, number: int) -> bool:
    """Score one slice of a rescore job; True when it did the work. Safe to run twice or concurrently: a slice is
    one transaction, and a second run writes nothing."""
    job = Job.objects.filter(pk=job_id).first()
    chunk = RescoreChunk.objects.filter(job_id=job_id, number=number).first()
    if job is None or chunk is None or chunk.done_at is not None:
        return False
    if job.params.get("shadow"):  # a version's first pass in shadow: shadow scores only
        from .shadow import shadow_chunk_run  # shadow.py starts its jobs through this module

        return shadow_chunk_run(job, chunk)
    model = ScoringModel.objects.select_related("icp").filter(pk=job.params["model_id"]).first()
    if model is None or model.status != ScoringModel.Status.ACTIVE:
        Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            error="This version is no longer active: the rescore of the version published since replaces this one.",
        )
        return False
    Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), progressed_at=timezone.now()
    )
    as_of = dt.datetime.fromisoformat(job.params["as_of"])
    score_and_store(Plan.of(model), Selection(lo=chunk.lo, hi=chunk.hi), as_of)
    if RescoreChunk.objects.filter(pk=chunk.pk, done_at__isnull=True).update(done_at=timezone.now()):
        Job.objects.filter(pk=job_id).update(done=F("done") + chunk.accounts, progressed_at=timezone.now())
    if not RescoreChunk.objects.filter(job_id=job_id, done_at__isnull=True).exists():
        _rescore_finish(job_id, model)
    return True


def _rescore_finish(job_id: int, model: ScoringModel) -> None:
    job = Job.objects.get(pk=job_id)
    # Capacity and MQAs look across slices (a territory's Tier 1, the accounts that entered a tier at `as_of`).
    after_scoring(model, dt.datetime.fromisoformat(job.params["as_of"]))
    tiers = dict(AccountScore.objects.filter(model=model).values_list("tier").annotate(n=Count("pk")).order_by())
    result = {
        "summary": {
            "version": model.version,
            "accounts scored": sum(tiers.values()),
            **{Tier(t).label: tiers.get(t, 0) for t in Tier.values},
        }
    }
    if connection.vendor == "postgresql" and job.total >= ANALYZE_AFTER:
        # Fresh statistics at once: the planner would otherwise read the lists' tier filters with those of the rows
        # before (or none, after a first fill) until autovacuum gets round to the table.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE segmentation_accountscore")
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now(), done=F("total"), result=result
    )


def rescore_job_run_here(job: Job, *, out: Callable[[str], None] | None = None) -> Job:
    """Run every undone step of a job in this process, in order (the `rescore --sync` command)."""
    Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(status=Job.Status.RUNNING, error="")
    while chunk := RescoreChunk.objects.filter(job=job, done_at__isnull=True).order_by("number").first():
        if not rescore_chunk_run(job.pk, chunk.number):
            break
        if out:
            out(f"  slice {chunk.number + 1}: {chunk.accounts:,} accounts scored")
    job.refresh_from_db()
    return job
