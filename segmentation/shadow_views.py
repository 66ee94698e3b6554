"""Running a draft in shadow beside the active version, from its page (RevOps admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from core.decorators import admin_only

from .models import ScoringModel
from .services import model_shadow_start, model_shadow_stop


@admin_only
@require_POST
def model_shadow_start_view(request, model_id: int):
    model = get_object_or_404(ScoringModel, pk=model_id)
    try:
        job = model_shadow_start(model=model, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("model-detail", model_id=model.pk)
    messages.success(
        request,
        f"v{model.version} runs in shadow: every account is being scored with it (job #{job.pk}), and every rescore "
        "scores it too. Nothing live changes until you publish it.",
    )
    return redirect("model-detail", model_id=model.pk)


@admin_only
@require_POST
def model_shadow_stop_view(request, model_id: int):
    model = get_object_or_404(ScoringModel, pk=model_id)
    try:
        model_shadow_stop(model=model, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("model-detail", model_id=model.pk)
    messages.success(request, f"v{model.version} no longer runs in shadow.")
    return redirect("model-detail", model_id=model.pk)
