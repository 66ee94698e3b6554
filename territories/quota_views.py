"""Pages for RevOps admins: quotas per territory and period (what pipeline coverage is measured against)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from core.decorators import admin_only
from core.forms import form_add_errors

from .forms import QuotaForm
from .models import Quota
from .quotas import quota_delete, quota_list, quota_save

PAGE_SIZE = 50


@admin_only
def quota_index(request):
    page = Paginator(quota_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "territories/quota_list.html", {"page": page})


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
