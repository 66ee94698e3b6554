"""Backtest from a version's page (admins): the form posts here; the panel on the version's page shows the job and
its report (templatetags/backtest_tags.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.decorators import admin_only
from segmentation.models import ScoringModel

from .recalibration.backtest import CutoffError, backtest_job_start, parse_cutoff

PANEL = "backtest"  # the panel's anchor on the version's page


@admin_only
@require_POST
def backtest_start(request, model_id: int):
    """Start a backtest of the version as of the cutoff typed (empty: the default). A bad cutoff goes back to the
    page with what was typed, which the panel shows again beside the reason."""
    model = get_object_or_404(ScoringModel, pk=model_id)
    typed = request.POST.get("cutoff", "")
    page = reverse("model-detail", kwargs={"model_id": model.pk})
    try:
        cutoff = parse_cutoff(typed)
    except CutoffError:
        return redirect(f"{page}?{urlencode({'backtest_cutoff': typed})}#{PANEL}")
    backtest_job_start(model=model, user=request.user, cutoff=cutoff)
    messages.info(
        request,
        f"Backtest of v{model.version} started: every account is scored as of the cutoff, nothing is changed.",
    )
    return redirect(f"{page}#{PANEL}")
