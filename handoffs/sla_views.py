"""Pages for RevOps admins: the SLA policy of each tier (how fast handoffs must be accepted, on which clock)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from core.decorators import admin_only
from core.forms import form_add_errors

from .forms import SlaPolicyForm
from .sla import ALWAYS, closures_label, days_label, describe, time_zone_names
from .sla_calendars import country_choices, find_country, policy_clock, subdivision_choices
from .sla_policies import TIER_LABELS, sla_policy_for_tier, sla_policy_list, sla_policy_save


@admin_only
def sla_policy_index(request):
    policies = {policy.tier: policy for policy in sla_policy_list()}
    rows = []
    for tier, label in TIER_LABELS.items():
        policy = policies.get(tier)
        clock = policy_clock(policy) if policy else None
        rows.append(
            {
                "tier": tier,
                "label": label,
                "policy": policy,
                "always": policy is not None and policy.calendar == ALWAYS,
                "days": days_label(policy.working_days) if policy else "",
                "clock": describe(clock) if clock else "",
                "closed": closures_label(clock) if clock else "",
            }
        )
    return render(request, "handoffs/sla_policy_list.html", {"rows": rows})


@admin_only
def sla_policy_edit(request, tier: str):
    """Edit a tier's policy, or write its first one; a GET only shows the form."""
    if tier not in TIER_LABELS:
        raise Http404("No SLA policy for this tier.")
    policy = sla_policy_for_tier(tier=tier)
    form = SlaPolicyForm(request.POST if request.method == "POST" else None, instance=policy)
    form.instance.tier = tier
    if form.is_bound and form.is_valid():
        try:
            saved = sla_policy_save(policy=form.save(commit=False), user=request.user)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(
                request,
                f"Saved the {TIER_LABELS[tier]} SLA policy: accept within {describe(policy_clock(saved))}, "
                f"then {saved.get_breach_action_display().lower()}. New handoffs use it; "
                "pending handoffs keep the due time they were given.",
            )
            return redirect("sla-policy-list")
    # The subdivisions offered are those of the country typed (or saved): the list would be long for all of them.
    country = find_country(form["holiday_country"].value() or "") or ""
    context = {
        "form": form,
        "policy": policy,
        "label": TIER_LABELS[tier],
        "time_zones": sorted(time_zone_names()),
        "countries": country_choices(),
        "subdivisions": subdivision_choices(country) if country else (),
        "clock": describe(policy_clock(policy)) if policy else "",
    }
    return render(request, "handoffs/sla_policy_form.html", context)
