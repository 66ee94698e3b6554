"""Scoring model versions (draft, preview, publish, restore), full rescore jobs and incremental rescoring."""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from accounts.models import Account
from core.jobs import job_create
from core.models import Job

from .definition import criteria_errors, model_errors, signal_rule_errors
from .engine import Plan, Selection, score_and_store, score_rows
from .models import ICP, AccountScore, PendingRescore, RescoreChunk, ScoringModel, Tier
from .qualify import after_scoring
from .tiers import ORDER

CHUNK_ACCOUNTS = 20_000
PREVIEW_MOVES = 2_000
PENDING_BATCH = 1_000
COPIED_FIELDS = [
    "icp", "signal_rules", "required_personas", "w_fit", "w_signal", "w_coverage", "full_signal_points",
    "lookback_days", "engagement_window_days", "tier1_enter", "tier1_exit", "tier1_min_fit", "tier2_enter",
    "tier2_exit", "tier2_min_fit", "tier3_enter", "tier3_exit", "tier3_min_fit", "min_days_in_tier",
    "surge_window_days", "surge_delta", "surge_hold_days", "mqa_tiers", "mqa_signal_min", "rejection_cooldown_days",
]  # fmt: skip


def active_model() -> ScoringModel | None:
    return ScoringModel.objects.select_related("icp").filter(status=ScoringModel.Status.ACTIVE).first()


def model_problems(model: ScoringModel) -> list[str]:
    """Everything that stops a version from being published, in words (empty when it can be)."""
    criteria, exclusions = model.current_criteria()
    problems = []
    for label, items, with_points in (("Criterion", criteria, True), ("Exclusion", exclusions, False)):
        for index, errors in criteria_errors(items, with_points=with_points).items():
            problems += [f"{label} {index + 1} ({field}): {message}" for field, message in errors.items()]
    for index, errors in signal_rule_errors(model.signal_rules).items():
        problems += [f"Signal rule {index + 1} ({field}): {message}" for field, message in errors.items()]
    values = {f.attname: getattr(model, f.attname) for f in ScoringModel._meta.concrete_fields}
    problems += [f"{field}: {message}" for field, message in model_errors(values).items()]
    if not criteria:
        problems.append("The ICP has no fit criteria: every account would score 0 on fit.")
    return problems


def _next_version() -> int:
    return (ScoringModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1


def model_draft_create(*, user, based_on: ScoringModel | None = None, icp: ICP | None = None, **values) -> ScoringModel:
    """A new draft: a copy of `based_on` (the active version by default), or the defaults with `icp`."""
    source = based_on or active_model()
    data = {name: copy.deepcopy(getattr(source, name)) for name in COPIED_FIELDS} if source else {}
    if icp is not None:
        data["icp"] = icp
    data.update(values)
    if "icp" not in data:
        raise ValidationError({"icp": "Choose the ICP this model scores fit against."})
    data.setdefault("name", source.name if source else data["icp"].name)
    for attempt in range(3):
        try:
            with transaction.atomic():
                return ScoringModel.objects.create(
                    **data, version=_next_version(), based_on=source, created_by=user, updated_by=user
                )
        except IntegrityError:  # another draft took the number meanwhile
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _locked_models() -> dict[int, ScoringModel]:
    return {m.pk: m for m in ScoringModel.objects.select_for_update().order_by("pk")}


def model_publish(*, model: ScoringModel, user, as_of: dt.datetime | None = None) -> Job:
    """Make a draft the active version (the active one is archived) and start the full rescore."""
    with transaction.atomic():
        locked = _locked_models()
        model = locked[model.pk]
        if not model.is_draft:
            raise ValidationError(f"Version {model.version} is {model.get_status_display().lower()}, not a draft.")
        problems = model_problems(model)
        if problems:
            raise ValidationError(problems)
        now = timezone.now()
        _archive_active(locked, now)
        model.criteria, model.exclusions = model.current_criteria()
        model.status = ScoringModel.Status.ACTIVE
        model.published_at, model.published_by = now, user
        model.save()
        return rescore_job_start(model=model, user=user, as_of=as_of, title=f"publish v{model.version}")


def _archive_active(locked: dict[int, ScoringModel], now) -> None:
    """Archive the active version (saved one by one, so the audit trail records it)."""
    for other in locked.values():
        if other.status == ScoringModel.Status.ACTIVE:
            other.status, other.archived_at = ScoringModel.Status.ARCHIVED, now
            other.save(update_fields=["status", "archived_at", "updated_at"])


def model_restore(*, model: ScoringModel, user, as_of: dt.datetime | None = None) -> Job:
    """Bring an archived version back as the active one, with its own frozen criteria, and rescore."""
    with transaction.atomic():
        locked = _locked_models()
        model = locked[model.pk]
        if model.status != ScoringModel.Status.ARCHIVED:
            raise ValidationError(f"Only an archived version can be restored; v{model.version} is {model.status}.")
        now = timezone.now()
        _archive_active(locked, now)
        model.status = ScoringModel.Status.ACTIVE
        model.published_at, model.published_by, model.archived_at = now, user, None
        model.save()
        return rescore_job_start(model=model, user=user, as_of=as_of, title=f"restore v{model.version}")


def previous_version(model: ScoringModel) -> ScoringModel | None:
    """The version that was active before this one (the one `restore` brings back)."""
    return (
        ScoringModel.objects.filter(status=ScoringModel.Status.ARCHIVED, archived_at__isnull=False)
        .exclude(pk=model.pk)
        .order_by("-archived_at", "-version")
        .first()
    )


# --- Full rescore: a job in slices of accounts that any number of workers share -------------------------------


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


def _slices() -> list[tuple[int, int | None]]:
    """Account id ranges [lo, hi) for a full rescore, covering every id (the last is open-ended).

    On PostgreSQL there are settings.RESCORE_SLICES of them (the workers take them one at a time); a slice reads
    only its own accounts' signals (a range of the covering index). Its cost is its signals plus its accounts (each
    account is scored and written), so the cuts give every slice an equal share of both, read from PostgreSQL's
    statistics (an equal-height histogram of signal.account_id; accounts' ids are taken as dense). Elsewhere,
    slices of CHUNK_ACCOUNTS accounts.
    """
    if connection.vendor != "postgresql":
        return [(lo, hi) for lo, hi, _ in _chunk_bounds(CHUNK_ACCOUNTS)]
    from accounts.models import Signal

    parts = max(1, int(getattr(settings, "RESCORE_SLICES", 8)))
    signal_table, account_table = Signal._meta.db_table, Account._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT histogram_bounds::text::bigint[] FROM pg_stats WHERE tablename = %s AND attname = 'account_id'",
            [signal_table],
        )
        row = cursor.fetchone()
        cursor.execute(f"SELECT min(id), max(id), count(*) FROM {account_table}")  # noqa: S608  # nosec B608  # SQL from model table names and constants; every value is a parameter, never input
        low, high, accounts = cursor.fetchone()
    if parts == 1 or not accounts:
        return [(0, None)]
    span = max(1, high - low + 1)
    bounds = row[0] if row and row[0] else None
    if not bounds:  # no statistics yet: equal numbers of accounts
        return _ranges([low + span * k // parts for k in range(1, parts)])
    # Cost below id x, as shares: signals (histogram buckets hold equal numbers) plus accounts (dense ids).
    cost = [(x, i / (len(bounds) - 1) + min(1.0, max(0.0, (x - low) / span))) for i, x in enumerate(bounds)]
    total = cost[-1][1] + max(0.0, 1.0 - (cost[-1][0] - low) / span)
    cuts = [next((x for x, c in cost if c >= total * k / parts), high) for k in range(1, parts)]
    return _ranges(cuts)


def _ranges(cuts: list[int]) -> list[tuple[int, int | None]]:
    cuts = sorted({c for c in cuts if c > 0})
    return list(zip([0, *cuts], [*cuts, None], strict=True))


def rescore_job_start(
    *, model: ScoringModel | None = None, user=None, as_of: dt.datetime | None = None, title: str = "rescore"
) -> Job:
    """Record a full rescore (every account, one `as_of`) and hand its slices to the workers once committed."""
    model = model or active_model()
    if model is None:
        raise ValidationError("There is no active scoring model to score with: publish one first.")
    as_of = as_of or timezone.now()
    slices = [
        RescoreChunk(lo=lo, hi=hi, accounts=Selection(lo=lo, hi=hi).filter(Account.objects.all()).count())
        for lo, hi in _slices()
    ]
    job = job_create(
        kind=Job.Kind.RESCORE,
        created_by=user,
        title=f"{title}: {model.name} v{model.version}",
        params={"model_id": model.pk, "version": model.version, "as_of": as_of.isoformat()},
        total=sum(s.accounts for s in slices),
    )
    for number, step in enumerate(slices):
        step.job, step.number = job, number
    RescoreChunk.objects.bulk_create(slices)
    if AccountScore.objects.filter(model=model).count() < job.total // 2:
        # Most rows will be written (a first fill, or another version's scores being replaced): building the score
        # indexes once at the end is much cheaper than maintaining them row by row. Until then, lists sorted by
        # score read the table without them (slower, still correct).
        _score_indexes(drop=True)
    rescore_job_enqueue(job)
    return job


SCORE_INDEX_LOCK = 7_201_003


def _score_indexes(*, drop: bool = False) -> None:
    """Drop the score table's secondary indexes, or create those missing (a first fill drops them; every job's end
    and every stopped job put them back). PostgreSQL only."""
    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCORE_INDEX_LOCK])  # one job at a time changes them
        for index in AccountScore._meta.indexes:
            if drop:
                cursor.execute(f"DROP INDEX IF EXISTS {index.name}")
            else:
                columns = ", ".join(f"{f.lstrip('-')}{' DESC' if f.startswith('-') else ''}" for f in index.fields)
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {index.name} ON {AccountScore._meta.db_table} ({columns})")


def rescore_job_enqueue(job: Job) -> None:
    """Queue the undone slices once the caller's transaction commits."""
    from .tasks import rescore_chunk_task

    numbers = list(RescoreChunk.objects.filter(job=job, done_at__isnull=True).values_list("number", flat=True))
    transaction.on_commit(lambda: [rescore_chunk_task.delay(job.pk, n) for n in numbers])


def rescore_job_resume(job: Job) -> int:
    """Run a stopped rescore (a killed worker, a failed slice) to its end: its undone slices are queued again."""
    if job.kind != Job.Kind.RESCORE:
        raise ValidationError("Only rescore jobs can be resumed.")
    undone = RescoreChunk.objects.filter(job=job, done_at__isnull=True).count()
    if job.status == Job.Status.SUCCEEDED:
        raise ValidationError("This rescore has already finished.")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, error="", finished_at=None)
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
    model = ScoringModel.objects.select_related("icp").filter(pk=job.params["model_id"]).first()
    if model is None or model.status != ScoringModel.Status.ACTIVE:
        Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            error="This version is no longer active: the rescore of the version published since replaces this one.",
        )
        _score_indexes()
        return False
    Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(status=Job.Status.RUNNING, started_at=timezone.now())
    as_of = dt.datetime.fromisoformat(job.params["as_of"])
    score_and_store(Plan.of(model), Selection(lo=chunk.lo, hi=chunk.hi), as_of)
    if RescoreChunk.objects.filter(pk=chunk.pk, done_at__isnull=True).update(done_at=timezone.now()):
        Job.objects.filter(pk=job_id).update(done=F("done") + chunk.accounts)
    if not RescoreChunk.objects.filter(job_id=job_id, done_at__isnull=True).exists():
        _rescore_finish(job_id, model)
    return True


def _rescore_finish(job_id: int, model: ScoringModel) -> None:
    _score_indexes()
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


# --- Incremental: a changed account is rescored soon after its change commits ----------------------------------


def scores_refresh_later(account_ids: Iterable[int]) -> None:
    """Queue accounts for rescoring; the queue keeps one entry per account, so bursts cost one rescore."""
    ids = sorted({int(i) for i in account_ids if i})
    if not ids:
        return
    if connection.vendor == "postgresql":  # one statement for the whole batch (signal ingestion calls this)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {PendingRescore._meta.db_table} (account_id, requested_at) "  # noqa: S608
                "SELECT unnest(%s::bigint[]), now() ON CONFLICT DO NOTHING",
                [ids],
            )
    else:
        PendingRescore.objects.bulk_create(
            [PendingRescore(account_id=i) for i in ids], ignore_conflicts=True, batch_size=1000
        )
    from .tasks import rescore_pending_task

    transaction.on_commit(rescore_pending_task.delay)


def _claim_pending(limit: int) -> list[int]:
    table = PendingRescore._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"DELETE FROM {table} WHERE account_id IN (SELECT account_id FROM {table} "  # noqa: S608  # nosec B608  # SQL from model table names and constants; every value is a parameter, never input
                "ORDER BY requested_at LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING account_id",
                [limit],
            )
            return [row[0] for row in cursor.fetchall()]
        ids = list(PendingRescore.objects.order_by("requested_at").values_list("account_id", flat=True)[:limit])
        PendingRescore.objects.filter(account_id__in=ids).delete()
        return ids


def rescore_pending(*, limit: int = PENDING_BATCH, as_of: dt.datetime | None = None) -> int:
    """Rescore the queued accounts with the active version; returns how many were scored."""
    model = active_model()
    scored = 0
    plan = Plan.of(model) if model else None
    while ids := _claim_pending(limit):
        if plan is None:
            continue  # nothing to score with: the next publish scores everyone
        moment = as_of or timezone.now()
        try:
            score_and_store(
                plan, Selection(ids=tuple(ids)), moment, then=partial(after_scoring, plan.model, moment, ids)
            )
        except Exception:
            PendingRescore.objects.bulk_create([PendingRescore(account_id=i) for i in ids], ignore_conflicts=True)
            raise
        scored += len(ids)
    return scored


def capacity_refresh(territory_id: int, *, as_of: dt.datetime | None = None) -> list[int]:
    """Hold or release a territory's Tier 1 overflow now (its members or capacities changed), raising the MQAs a
    release may bring; returns the new MQAs' ids."""
    model = active_model()
    if model is None:
        return []
    return after_scoring(model, as_of or timezone.now(), territory_ids=[territory_id])


def account_rescore(account: Account, *, as_of: dt.datetime | None = None) -> AccountScore | None:
    """Score one account now (the account page's "rescore" and the tests)."""
    model = active_model()
    if model is None:
        return None
    moment = as_of or timezone.now()
    score_and_store(
        Plan.of(model), Selection(ids=(account.pk,)), moment, then=partial(after_scoring, model, moment, [account.pk])
    )
    return AccountScore.objects.filter(account=account).first()


# --- Preview: what publishing a version would change -----------------------------------------------------------


def preview_compute(
    *, model: ScoringModel, as_of: dt.datetime | None = None, progress: Callable[[int, int], None] | None = None
) -> dict:
    """Score every account with `model` (nothing stored) and compare with the stored scores.

    Returns tier counts before and after, the from -> to matrix, score deltas, and the accounts whose tier
    would change (the first PREVIEW_MOVES of them by account id; `moved` counts them all).
    """
    as_of = as_of or timezone.now()
    plan = Plan.of(model)
    return _preview(plan, as_of, progress)


def _preview(plan: Plan, as_of: dt.datetime, progress) -> dict:
    model = plan.model
    bounds = _slices()
    total = Account.objects.count()
    before: Counter = Counter()
    after: Counter = Counter()
    matrix: Counter = Counter()
    moves: list[dict] = []
    moved = up = down = 0
    delta_sum = 0.0
    compared = rose = fell = 0
    done = 0
    for lo, hi in bounds:
        selection = Selection(lo=lo, hi=hi)
        stored = {
            s["account_id"]: s
            for s in selection.filter(AccountScore.objects.all(), "account_id").values(
                "account_id", "tier", "unified", "fit"
            )
        }
        new_rows = list(score_rows(plan, selection, as_of))
        names = dict(
            selection.filter(Account.objects.all())
            .filter(pk__in=[r.account_id for r in new_rows if (stored.get(r.account_id) or {}).get("tier") != r.tier])
            .values_list("pk", "name")
        )
        for row in new_rows:
            old = stored.get(row.account_id)
            old_tier = old["tier"] if old else None
            before[old_tier or "unscored"] += 1
            after[row.tier] += 1
            matrix[(old_tier or "unscored", row.tier)] += 1
            if old is not None:
                compared += 1
                delta = row.unified - old["unified"]
                delta_sum += delta
                rose += delta >= 5
                fell += delta <= -5
            if old_tier != row.tier:
                moved += 1
                if old_tier is not None:
                    up += ORDER[row.tier] < ORDER[old_tier]
                    down += ORDER[row.tier] > ORDER[old_tier]
                if len(moves) < PREVIEW_MOVES:
                    moves.append(
                        {
                            "account_id": row.account_id,
                            "name": names.get(row.account_id, ""),
                            "from": old_tier,
                            "to": row.tier,
                            "unified_before": old["unified"] if old else None,
                            "unified_after": row.unified,
                            "fit_before": old["fit"] if old else None,
                            "fit_after": row.fit,
                        }
                    )
        done += len(new_rows)
        if progress:
            progress(min(done, total), total)
    order = [*Tier.values, "unscored"]
    return {
        "model_id": model.pk,
        "version": model.version,
        "as_of": as_of.isoformat(),
        "accounts": sum(after.values()),
        "before": {t: before.get(t, 0) for t in order if before.get(t) or t != "unscored"},
        "after": {t: after.get(t, 0) for t in Tier.values},
        "matrix": [{"from": f, "to": t, "accounts": n} for (f, t), n in sorted(matrix.items(), key=str)],
        "moved": moved,
        "moved_up": up,
        "moved_down": down,
        "unified_mean_change": round(delta_sum / compared, 2) if compared else None,
        "unified_rose_5_or_more": rose,
        "unified_fell_5_or_more": fell,
        "moves": moves,
        "moves_shown": len(moves),
    }


def preview_job_start(*, model: ScoringModel, user) -> Job:
    from .tasks import preview_task

    job = job_create(
        kind=Job.Kind.PREVIEW,
        created_by=user,
        title=f"preview {model.name} v{model.version}",
        params={"model_id": model.pk, "version": model.version},
    )
    transaction.on_commit(lambda: preview_task.delay(job.pk))
    return job


def latest_preview(model: ScoringModel) -> Job | None:
    return Job.objects.filter(kind=Job.Kind.PREVIEW, params__model_id=model.pk).order_by("-created_at", "-id").first()
