"""The Lookalikes page (RevOps admins): when lookalike scores were last refreshed, against how many won accounts, the
recent refreshes, and a button to refresh them now (a job)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.decorators import admin_only
from core.models import Job

from . import lookalike as L
from .models import LookalikeRun
from .selectors import active_model
from .services.lookalikes import (
    JOB_PARAMS,
    lookalike_latest_run,
    lookalikes_job_start,
    model_reads_lookalike,
    period_days,
)


@admin_only
def lookalikes(request):
    runs = Paginator(LookalikeRun.objects.select_related("job"), 20).get_page(request.GET.get("page"))
    running = (
        Job.objects.filter(kind=Job.Kind.OTHER, params__work=JOB_PARAMS["work"])
        .filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
        .order_by("-id")
        .first()
    )
    return render(
        request,
        "segmentation/lookalikes.html",
        {
            "latest": lookalike_latest_run(),
            "runs": runs,
            "running": running,
            "period_days": period_days(),
            "k": L.K,
            "model_reads": model_reads_lookalike(active_model()),
        },
    )


@admin_only
@require_POST
def lookalikes_run(request):
    job = lookalikes_job_start(user=request.user)
    messages.success(request, f"Lookalike scores are being refreshed (job #{job.pk}).")
    return redirect("lookalikes")
