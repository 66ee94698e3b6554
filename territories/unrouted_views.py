"""The admins' queue of accounts in no territory: imported accounts that no territory's rules match and none names.
From here an admin sends them to a territory (as its named accounts) or routes them again after changing the rules."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from core.decorators import admin_only
from core.pagination import CappedCountPaginator

from .forms import UnroutedForm
from .selectors import unrouted_accounts
from .services import assignment_job_start, unrouted_route, unrouted_send

PAGE_SIZE = 50


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


@admin_only
def unrouted_index(request):
    form = None
    if request.method == "POST":
        if request.POST.get("action") == "route_all":
            job = assignment_job_start(user=request.user, unrouted=True)
            messages.info(request, "Routing every account in no territory again; this page follows its progress.")
            return redirect("job-detail", job_id=job.pk)
        ids = [int(v) for v in request.POST.getlist("account_ids") if v.isdigit()]
        choices = list(unrouted_accounts().filter(pk__in=ids).values_list("pk", "name"))
        form = UnroutedForm(request.POST, account_choices=choices)
        if form.is_valid():
            selected = form.cleaned_data["account_ids"]
            try:
                if form.cleaned_data["action"] == "send":
                    territory = form.cleaned_data["territory"]
                    sent = unrouted_send(user=request.user, account_ids=selected, territory=territory)
                    messages.success(
                        request,
                        f"Sent {_plural(sent, 'account')} to {territory.name}: named there, so routing keeps "
                        f"{'it' if sent == 1 else 'them'} there, each with an owner if a rep is free.",
                    )
                else:
                    routed, still = unrouted_route(user=request.user, account_ids=selected)
                    text = f"{_plural(routed, 'account')} found a territory."
                    if still:
                        text += f" {_plural(still, 'account')} still {'matches' if still == 1 else 'match'} none."
                    messages.success(request, text)
            except PermissionDenied as exc:
                messages.error(request, str(exc))
            query = f"?page={request.GET['page']}" if request.GET.get("page", "").isdigit() else ""
            return redirect(f"{request.path}{query}")
    page = CappedCountPaginator(unrouted_accounts(), PAGE_SIZE).get_page(request.GET.get("page"))
    selected = set(form["account_ids"].value() or []) if form is not None else set()
    context = {
        "page": page,
        "form": form or UnroutedForm(account_choices=[]),
        "selected": {str(v) for v in selected},
    }
    return render(request, "territories/unrouted.html", context)
