"""Pages for RevOps admins: ICPs, scoring model versions (edit a draft, preview, publish, restore, history)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.criteria_forms import CriteriaFormSet
from accounts.selectors import attribute_keys
from core.decorators import admin_only
from core.tiers import LABELS

from .definition import signal_kind_label
from .forms import (
    SIGNAL_KINDS,
    ICPForm,
    PlayForm,
    ScoringModelForm,
    SignalRuleFormSet,
    rules_from,
)
from .history import model_in_words, preview_in_words, version_changes, version_events
from .models import ICP, Play, ScoringModel
from .plays import PLAY_TIERS, play_list, play_save
from .selectors import active_model
from .services import (
    NotADraft,
    icp_create,
    icp_update,
    latest_preview,
    model_draft_create,
    model_draft_update,
    model_problems,
    model_publish,
    model_restore,
    preview_job_start,
)


@admin_only
def scoring_index(request):
    versions = ScoringModel.objects.select_related("icp", "created_by", "published_by", "restored_by").order_by(
        "-version"
    )
    page = Paginator(versions, 25).get_page(request.GET.get("page"))
    rows = [{"model": m, "events": version_events(m)} for m in page]
    return render(
        request,
        "segmentation/scoring_index.html",
        {"page": page, "rows": rows, "icps": ICP.objects.all(), "active": active_model()},
    )


def _in_words(model: ScoringModel) -> dict:
    """What the model page and the publish and restore pages say of a version, in the same words."""
    active = active_model()
    preview = latest_preview(model)
    return {
        "model": model,
        "words": model_in_words(model),
        "events": version_events(model),
        "active": active,
        "changes_from_active": version_changes(active, model) if active and active.pk != model.pk else None,
        "preview": preview,
        "preview_words": preview_in_words(preview.result if preview else None),
    }


def _icp_builders(request, icp: ICP | None) -> tuple[CriteriaFormSet, CriteriaFormSet]:
    """The ICP's fit criteria (grouped, with points) and exclusions, as two criterion builders."""
    keys = attribute_keys()
    data = request.POST if request.method == "POST" else None
    criteria = CriteriaFormSet(data, prefix="criteria", items=icp.criteria if icp else [], keys=keys)
    exclusions = CriteriaFormSet(
        data, prefix="exclusions", items=icp.exclusions if icp else [], with_points=False, keys=keys,
        add_label="Add exclusion",
    )  # fmt: skip
    return criteria, exclusions


@admin_only
def icp_edit(request, icp_id: int | None = None):
    icp = get_object_or_404(ICP, pk=icp_id) if icp_id else None
    form = ICPForm(request.POST or None, instance=icp)
    criteria, exclusions = _icp_builders(request, icp)
    valid = request.method == "POST" and all([form.is_valid(), criteria.is_valid(), exclusions.is_valid()])
    if valid:
        values = {
            **{name: form.cleaned_data[name] for name in form.Meta.fields},
            "criteria": criteria.items(),
            "exclusions": exclusions.items(),
        }
        if icp is None:
            icp = icp_create(user=request.user, values=values)
        else:
            icp = icp_update(icp=icp, user=request.user, values=values)
        messages.success(
            request,
            f"Saved {icp.name}. Drafts that use it read the new criteria at once; "
            "the active version keeps its own copy until a new version is published.",
        )
        return redirect("icp-edit", icp_id=icp.pk)
    if request.method == "POST":
        messages.error(request, "Nothing was saved: fix what is marked below.")
    drafts = icp.models.filter(status=ScoringModel.Status.DRAFT) if icp else []
    return render(
        request,
        "segmentation/icp_form.html",
        {"form": form, "icp": icp, "criteria": criteria, "exclusions": exclusions, "drafts": drafts},
    )


@admin_only
@require_POST
def model_new(request):
    based_on = ScoringModel.objects.filter(pk=request.POST.get("based_on") or None).first()
    icp = ICP.objects.filter(pk=request.POST.get("icp") or None).first()
    try:
        model = model_draft_create(user=request.user, based_on=based_on, icp=icp)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("scoring-index")
    messages.success(request, f"Draft v{model.version} created" + (f" from v{based_on.version}." if based_on else "."))
    return redirect("model-edit", model_id=model.pk)


@admin_only
def model_detail(request, model_id: int):
    model = get_object_or_404(
        ScoringModel.objects.select_related("icp", "created_by", "updated_by", "published_by", "restored_by"),
        pk=model_id,
    )
    compare = model.based_on if model.based_on_id else None
    return render(
        request,
        "segmentation/model_detail.html",
        {
            **_in_words(model),
            "changes": version_changes(compare, model),
            "compare": compare,
            "problems": model_problems(model) if model.is_draft else [],
        },
    )


@admin_only
def model_edit(request, model_id: int):
    model = get_object_or_404(ScoringModel, pk=model_id)
    if not model.is_draft:
        messages.error(request, f"Version {model.version} is {model.get_status_display().lower()}: "
                                "create a new draft from it to make changes.")  # fmt: skip
        return redirect("model-detail", model_id=model.pk)
    form = ScoringModelForm(request.POST or None, instance=model)
    shown = [{**rule, "kind": signal_kind_label(rule.get("kind"))} for rule in model.signal_rules or []]
    rules = SignalRuleFormSet(request.POST or None, prefix="rules", initial=shown)  # kinds as "Web visit"
    if request.method == "POST" and form.is_valid() and rules.is_valid():
        values = {**{name: form.cleaned_data[name] for name in form.Meta.fields}, "signal_rules": rules_from(rules)}
        try:
            model = model_draft_update(model=model, user=request.user, values=values)
        except NotADraft as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("model-detail", model_id=model.pk)
        messages.success(request, f"Draft v{model.version} saved. Preview its impact before publishing.")
        return redirect("model-detail", model_id=model.pk)
    return render(
        request,
        "segmentation/model_form.html",
        {"form": form, "rules": rules, "model": model, "signal_kinds": SIGNAL_KINDS},
    )


@admin_only
@require_POST
def model_preview(request, model_id: int):
    model = get_object_or_404(ScoringModel, pk=model_id)
    preview_job_start(model=model, user=request.user)
    messages.info(request, "Preview started: every account is scored with this version, nothing is changed.")
    return redirect("model-detail", model_id=model.pk)


def _confirm(request, model_id: int, *, action: str, act, done: str, problems) -> object:
    """GET: what the action will do (and the latest preview), for a confirmation. POST: do it, then show its job."""
    model = get_object_or_404(
        ScoringModel.objects.select_related("icp", "created_by", "published_by", "restored_by"), pk=model_id
    )
    if request.method == "POST":
        try:
            job = act(model=model, user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("model-detail", model_id=model.pk)
        messages.success(request, f"v{model.version} {done}; every account is being rescored.")
        return redirect("job-detail", job_id=job.pk)
    context = {**_in_words(model), "action": action, "problems": problems(model)}
    return render(request, "segmentation/model_confirm.html", context)


@admin_only
def model_publish_confirm(request, model_id: int):
    return _confirm(
        request, model_id, action="publish", act=model_publish, done="is active",
        problems=lambda m: model_problems(m) if m.is_draft else ["Only a draft can be published."],
    )  # fmt: skip


@admin_only
def model_restore_confirm(request, model_id: int):
    return _confirm(
        request, model_id, action="restore", act=model_restore, done="is active again",
        problems=lambda m: [] if m.status == m.Status.ARCHIVED else ["Only an archived version can be restored."],
    )  # fmt: skip


@admin_only
def play_index(request):
    plays = {play.tier: play for play in play_list()}
    rows = [{"tier": tier, "label": LABELS[tier], "play": plays.get(tier)} for tier in PLAY_TIERS]
    return render(request, "segmentation/play_list.html", {"rows": rows})


@admin_only
def play_edit(request, tier: str):
    if tier not in PLAY_TIERS:
        raise Http404("No play for this tier.")
    play = Play.objects.filter(tier=tier).first() or Play(tier=tier)
    form = PlayForm(request.POST if request.method == "POST" else None, instance=play)
    if form.is_bound and form.is_valid():
        play = play_save(play=form.save(commit=False), user=request.user)
        messages.success(request, f"Saved the {LABELS[tier]} play ({play.name}); account pages show it at once.")
        return redirect("play-list")
    return render(request, "segmentation/play_form.html", {"form": form, "play": play, "label": LABELS[tier]})
