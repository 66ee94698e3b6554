"""Scoring model versions and ICPs: drafts edited, published, restored; the ICP edited."""

from __future__ import annotations

import copy
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.criteria_forms import message_in_words
from accounts.selectors import criteria_problems
from core.models import Job
from core.services import row_update

from ..definition import SETTING_LABELS, model_errors, signal_kind_label, signal_rule_errors
from ..events import model_published
from ..history import criterion_line
from ..models import ICP, ScoringModel
from ..selectors import active_model
from .rescore import rescore_job_start, shadow_job_start

COPIED_FIELDS = [
    "icp", "signal_rules", "required_personas", "w_fit", "w_signal", "w_coverage", "full_signal_points",
    "lookback_days", "engagement_window_days", "tier1_enter", "tier1_exit", "tier1_min_fit", "tier2_enter",
    "tier2_exit", "tier2_min_fit", "tier3_enter", "tier3_exit", "tier3_min_fit", "min_days_in_tier",
    "surge_window_days", "surge_delta", "surge_hold_days", "mqa_tiers", "mqa_signal_min", "rejection_cooldown_days",
    "contact_cap", "group_rollup",
]  # fmt: skip


def model_problems(model: ScoringModel) -> list[str]:
    """Everything that stops a version from being published, in words (empty when it can be)."""
    criteria, exclusions = model.current_criteria()
    problems = []
    for label, items, with_points in (("Criterion", criteria, True), ("Exclusion", exclusions, False)):
        for index, errors in criteria_problems(items, with_points=with_points).items():
            item = items[index] if index >= 0 and isinstance(items[index], dict) else {}
            attribute = str(item.get("attribute") or "").strip()
            what = f" ({criterion_line(item, with_points=False)})" if attribute and item.get("operator") else ""
            problems += [
                f"{label} {index + 1}{what}: {message_in_words(field, message, attribute)}"
                for field, message in errors.items()
            ]
    for index, errors in signal_rule_errors(model.signal_rules).items():
        rule = model.signal_rules[index] if index >= 0 and isinstance(model.signal_rules[index], dict) else {}
        what = f" ({signal_kind_label(rule['kind'])})" if rule.get("kind") else ""
        problems += [f"Signal rule {index + 1}{what}: {message}" for message in errors.values()]
    values = {f.attname: getattr(model, f.attname) for f in ScoringModel._meta.concrete_fields}
    problems += [f"{SETTING_LABELS.get(field, field)}: {message}" for field, message in model_errors(values).items()]
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


class NotADraft(ValidationError):
    """The version is no longer a draft (published or archived meanwhile): nothing was changed."""


def _still_a_draft(locked: ScoringModel) -> None:
    if not locked.is_draft:
        raise NotADraft(
            f"Version {locked.version} is {locked.get_status_display().lower()}, not a draft: create a new draft "
            "from it to make changes."
        )


@transaction.atomic
def model_draft_update(*, model: ScoringModel, user, values: dict) -> ScoringModel:
    """Change a draft (the caller checked that the user may). The row is locked and must still be a draft, so a
    publish that committed meanwhile stands: this refuses (NotADraft) rather than writing the version back to a
    draft. Only the fields that change are written. A draft running in shadow has its shadow scores redone."""
    updated, changed = row_update(model, values, check=_still_a_draft, also={"updated_by": user})
    if changed:
        _shadow_redo([updated], user)
    return updated


def _shadow_redo(models: list[ScoringModel], user) -> None:
    """The shadow scores of those of `models` that run in shadow, redone with what they say now (a version that can
    no longer score stops running in shadow, so no scores of another model are read as its)."""
    for model in models:
        if not model.in_shadow:
            continue
        if model_problems(model):
            model.in_shadow, model.shadow_since = False, None
            model.save(update_fields=["in_shadow", "shadow_since", "updated_at"])
        else:
            shadow_job_start(model=model, user=user)


@transaction.atomic
def model_draft_delete(*, model: ScoringModel) -> None:
    """Delete a draft; a version published meanwhile is kept (NotADraft)."""
    locked = ScoringModel.objects.select_for_update().get(pk=model.pk)
    _still_a_draft(locked)
    locked.delete()


@transaction.atomic
def icp_create(*, user, values: dict) -> ICP:
    return ICP.objects.create(**values, updated_by=user)


@transaction.atomic
def icp_update(*, icp: ICP, user, values: dict) -> ICP:
    """Change an ICP (its name, description, criteria, exclusions) on its locked row, writing only what changes, so
    a concurrent change to another field is kept. Drafts read their ICP live; published versions keep their copy, and
    a draft running in shadow on it has its shadow scores redone."""
    updated, changed = row_update(icp, values, also={"updated_by": user})
    if changed:
        _shadow_redo(
            list(ScoringModel.objects.filter(icp=updated, status=ScoringModel.Status.DRAFT, in_shadow=True)), user
        )
    return updated


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
        model.in_shadow, model.shadow_since = False, None  # published: its shadow run (if any) ends
        model.save(
            update_fields=[
                "criteria", "exclusions", "status", "published_at", "published_by", "in_shadow", "shadow_since",
                "updated_at",
            ]
        )  # fmt: skip
        model_published(model=model, user=user)
        return rescore_job_start(model=model, user=user, as_of=as_of, title=f"publish v{model.version}")


def _archive_active(locked: dict[int, ScoringModel], now) -> None:
    """Archive the active version (saved one by one, so the audit trail records it)."""
    for other in locked.values():
        if other.status == ScoringModel.Status.ACTIVE:
            other.status, other.archived_at = ScoringModel.Status.ARCHIVED, now
            other.save(update_fields=["status", "archived_at", "updated_at"])


def model_restore(*, model: ScoringModel, user, as_of: dt.datetime | None = None) -> Job:
    """Bring an archived version back as the active one, with its own frozen criteria, and rescore. When and by whom
    it was first published stays; the restore is recorded beside it (`restored_at`, `restored_by`)."""
    with transaction.atomic():
        locked = _locked_models()
        model = locked[model.pk]
        if model.status != ScoringModel.Status.ARCHIVED:
            raise ValidationError(f"Only an archived version can be restored; v{model.version} is {model.status}.")
        now = timezone.now()
        _archive_active(locked, now)
        model.status = ScoringModel.Status.ACTIVE
        model.restored_at, model.restored_by, model.archived_at = now, user, None
        model.save(update_fields=["status", "restored_at", "restored_by", "archived_at", "updated_at"])
        model_published(model=model, user=user, restored=True)
        return rescore_job_start(model=model, user=user, as_of=as_of, title=f"restore v{model.version}")


def previous_version(model: ScoringModel) -> ScoringModel | None:
    """The version that was active before this one (the one `restore` brings back)."""
    return (
        ScoringModel.objects.filter(status=ScoringModel.Status.ARCHIVED, archived_at__isnull=False)
        .exclude(pk=model.pk)
        .order_by("-archived_at", "-version")
        .first()
    )
