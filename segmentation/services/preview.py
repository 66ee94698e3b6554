"""Preview: what publishing a version would change, computed without storing anything."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from core.jobs import job_create
from core.models import Job
from core.tiers import ORDER, Tier

from ..engine import Plan, Selection, score_rows
from ..models import AccountScore, ScoringModel
from .rescore import rescore_slices

PREVIEW_MOVES = 2_000


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
    bounds = rescore_slices()
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
    from ..tasks import preview_task

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
