"""Pages for RevOps admins to carve territories: create and edit one (its rules written with the criterion builder,
its named accounts chosen with a search), with a preview of the accounts it would match before anything is saved."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from core.decorators import admin_only

from .forms import TerritoryEditor
from .models import Territory
from .rule_preview import rules_preview
from .selectors import account_search
from .services import territory_create, territory_problems, territory_update


@admin_only
def territory_edit(request, territory_id: int | None = None):
    """A new territory (no id) or an existing one. "Preview" shows what the rules would match; "Save" saves."""
    territory = get_object_or_404(Territory, pk=territory_id) if territory_id else None
    editor = TerritoryEditor(request.POST if request.method == "POST" else None, territory=territory)
    preview = None
    if request.method == "POST" and editor.is_valid():
        values = editor.values()
        if request.POST.get("action") == "preview":
            problems = territory_problems(territory=territory, values=values)
            if problems:
                editor.add_errors(ValidationError(problems))
            else:
                preview = rules_preview(criteria=values["criteria"], named_ids=values["named_accounts"])
        else:
            try:
                if territory is None:
                    saved = territory_create(user=request.user, values=values)
                else:
                    saved = territory_update(territory=territory, user=request.user, values=values)
            except ValidationError as exc:
                editor.add_errors(exc)
            else:
                messages.success(
                    request,
                    f"Saved {saved.name}. Accounts move to it at the next assignment run: preview it to see which.",
                )
                return redirect("territory-detail", territory_id=saved.pk)
    context = {"editor": editor, "form": editor.form, "rules": editor.rules, "territory": territory, "preview": preview}
    return render(request, "territories/territory_form.html", context)


@admin_only
def territory_account_search(request):
    """The named-account picker's search: accounts whose name or domain holds `q`, as JSON."""
    return JsonResponse({"results": account_search(user=request.user, text=request.GET.get("q", ""))})
