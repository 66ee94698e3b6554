"""Champion and challenger: a draft run in shadow beside the active version. While it runs, every rescore also
scores the rescored accounts with it (engine/shadow.py), so its scores can be compared with the live ones on the
deals that close, before anyone publishes it. Starting it scores every account with it once, as a job."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from core.models import Job
from core.tiers import Tier

from ..engine import Plan, Selection, shadow_score_and_store
from ..models import RescoreChunk, ScoringModel, ShadowScore
from .rescore import shadow_job_start
from .versions import model_problems


def shadow_model() -> ScoringModel | None:
    """The version running in shadow now, or None."""
    return ScoringModel.objects.select_related("icp", "based_on").filter(in_shadow=True).first()


def model_shadow_start(*, model: ScoringModel, user, as_of: dt.datetime | None = None) -> Job:
    """Run a draft in shadow (the caller checked that the user may) and start the job that scores every account
    with it once. Refused when the version is not a draft, cannot be published as it stands (it could not score),
    or another version already runs in shadow."""
    with transaction.atomic():
        locked = {m.pk: m for m in ScoringModel.objects.select_for_update().order_by("pk")}
        model = locked[model.pk]
        if not model.is_draft:
            raise ValidationError(
                f"Only a draft can run in shadow; v{model.version} is {model.get_status_display().lower()}."
            )
        if model.in_shadow:
            raise ValidationError(f"v{model.version} already runs in shadow.")
        running = next((m for m in locked.values() if m.in_shadow), None)
        if running is not None:
            raise ValidationError(
                f"v{running.version} already runs in shadow: stop it first (one version at a time runs in shadow)."
            )
        problems = model_problems(model)
        if problems:
            raise ValidationError(["It cannot score accounts as it stands:", *problems])
        model.in_shadow, model.shadow_since = True, timezone.now()
        model.updated_by = user
        model.save(update_fields=["in_shadow", "shadow_since", "updated_by", "updated_at"])
        return shadow_job_start(model=model, user=user, as_of=as_of)


@transaction.atomic
def model_shadow_stop(*, model: ScoringModel, user) -> ScoringModel:
    """Stop running a version in shadow: rescores no longer score it. Its shadow scores stay until another version's
    shadow run replaces them."""
    locked = ScoringModel.objects.select_for_update().get(pk=model.pk)
    if not locked.in_shadow:
        raise ValidationError(f"v{locked.version} does not run in shadow.")
    locked.in_shadow, locked.shadow_since, locked.updated_by = False, None, user
    locked.save(update_fields=["in_shadow", "shadow_since", "updated_by", "updated_at"])
    return locked


def shadow_chunk_run(job: Job, chunk: RescoreChunk) -> bool:
    """One slice of a shadow version's first pass; the job fails (and writes nothing) once the version no longer
    runs in shadow."""
    model = ScoringModel.objects.select_related("icp").filter(pk=job.params["model_id"], in_shadow=True).first()
    if model is None:
        Job.objects.filter(pk=job.pk, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            error="This version no longer runs in shadow: its shadow scores were not completed.",
        )
        return False
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), progressed_at=timezone.now()
    )
    as_of = dt.datetime.fromisoformat(job.params["as_of"])
    shadow_score_and_store(Plan.of(model), Selection(lo=chunk.lo, hi=chunk.hi), as_of)
    if RescoreChunk.objects.filter(pk=chunk.pk, done_at__isnull=True).update(done_at=timezone.now()):
        Job.objects.filter(pk=job.pk).update(done=F("done") + chunk.accounts, progressed_at=timezone.now())
    if not RescoreChunk.objects.filter(job_id=job.pk, done_at__isnull=True).exists():
        shadow_job_finish(job.pk, model)
    return True


def shadow_job_finish(job_id: int, model: ScoringModel) -> None:
    tiers = dict(ShadowScore.objects.filter(model=model).values_list("tier").annotate(n=Count("pk")).order_by())
    result = {
        "summary": {
            "version in shadow": model.version,
            "accounts scored": sum(tiers.values()),
            **{Tier(t).label: tiers.get(t, 0) for t in Tier.values},
        }
    }
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now(), done=F("total"), result=result
    )
