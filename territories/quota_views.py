"""Quota pages: quotas per territory and period (what pipeline coverage is measured against) and per rep. RevOps
admins keep them all; managers see those of their territories and plan them from the suggestions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from core.decorators import admin_only, role_required
from core.forms import form_add_errors
from core.roles import ADMIN, MANAGER

from .forms import QuotaForm
from .models import Quota
from .quota_forms import QuotaPeriodForm, QuotaPlanForm
from .quota_suggestions import (
    next_quarter,
    quota_plan_save,
    quota_plan_territories,
    quota_suggestion,
    rep_field,
    rep_quota_list,
    territory_field,
)
from .quotas import quota_delete, quota_list, quota_save

PAGE_SIZE = 50
PLAN_PAGE_SIZE = 25  # territories per page of the planning form


@role_required(ADMIN, MANAGER)
def quota_index(request):
    page = Paginator(quota_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rep_page = Paginator(rep_quota_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("rep_page"))
    return render(request, "territories/quota_list.html", {"page": page, "rep_page": rep_page})


@role_required(ADMIN, MANAGER)
def quota_suggest(request):
    """Suggested quotas for a period (GET: the period, from the query string); the POST saves the amounts typed,
    for the period of the query string."""
    territories = list(quota_plan_territories(user=request.user))
    if any(key in request.GET for key in ("period_start", "period_end")):
        period_data = request.GET
    else:
        start, end = next_quarter()
        period_data = {"period_start": start.isoformat(), "period_end": end.isoformat()}
    period_form = QuotaPeriodForm(period_data, territories=territories)
    context = {"period_form": period_form, "territories": territories}
    if not period_form.is_valid():
        return render(request, "territories/quota_suggestions.html", context)
    period = period_form.cleaned_data
    rate = period["attainment_rate"]
    suggestion = quota_suggestion(
        user=request.user,
        period_start=period["period_start"],
        period_end=period["period_end"],
        territory_ids=[period["territory"]] if period["territory"] else None,
        rate=rate / 100 if rate is not None else None,
    )
    page = Paginator(suggestion.territories, PLAN_PAGE_SIZE).get_page(request.GET.get("page"))
    form = QuotaPlanForm(
        request.POST if request.method == "POST" else None, suggestion=suggestion, lines=page.object_list
    )
    for line in page.object_list:
        line.amount_field = form[territory_field(line.territory.pk)]
        for rep in line.reps:
            rep.amount_field = form[rep_field(line.territory.pk, rep.user.pk)]
    if form.is_bound and form.is_valid():
        territory_amounts, rep_amounts = form.amounts()
        try:
            saved = quota_plan_save(
                user=request.user,
                period_start=suggestion.period_start,
                period_end=suggestion.period_end,
                territory_amounts=territory_amounts,
                rep_amounts=rep_amounts,
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(
                request,
                f"Saved {_count(saved[0], 'territory quota', 'territory quotas')} and "
                f"{_count(saved[1], 'rep quota', 'rep quotas')} for {suggestion.period_start:%Y-%m-%d} to "
                f"{suggestion.period_end:%Y-%m-%d}.",
            )
            return redirect("quota-list")
    query = request.GET.copy()
    query.pop("page", None)
    context.update(suggestion=suggestion, page=page, form=form, query=query.urlencode())
    return render(request, "territories/quota_suggestions.html", context)


def _count(number: int, one: str, many: str) -> str:
    return f"{number:,} {one if number == 1 else many}"


@admin_only
def quota_edit(request, quota_id: int | None = None):
    quota = get_object_or_404(Quota, pk=quota_id) if quota_id else None
    form = QuotaForm(request.POST if request.method == "POST" else None, instance=quota)
    if form.is_bound and form.is_valid():
        try:
            saved = quota_save(quota=form.save(commit=False), user=request.user)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, f"Saved the quota of {saved}.")
            return redirect("quota-list")
    return render(request, "territories/quota_form.html", {"form": form, "quota": quota})


@admin_only
def quota_remove(request, quota_id: int):
    """A GET asks for confirmation; the POST deletes."""
    quota = get_object_or_404(Quota.objects.select_related("territory"), pk=quota_id)
    if request.method == "POST":
        label = str(quota)
        quota_delete(quota=quota)
        messages.success(request, f"Deleted the quota of {label}.")
        return redirect("quota-list")
    return render(request, "territories/quota_confirm_delete.html", {"quota": quota})
