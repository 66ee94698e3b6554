"""Reads about territory planning scenarios: who may see which, and the comparison of their plans."""

from __future__ import annotations

import math

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from core.roles import is_admin, is_manager

from .models import Scenario, ScenarioTerritory
from .selectors import territory_ids_managed_by

PLAN_LABELS = {"live": "Live", "balanced": "Scenario (balancer)", "greedy": "Greedy round robin"}
STATUS_TEXT = {
    "optimal": "Optimal.",
    "feasible": "Time limit reached.",
    "infeasible": "Not every account could be placed.",
}


def scenario_list(*, user) -> QuerySet[Scenario]:
    """Scenarios a user may see and change: every one for admins; for managers those holding only territories they
    manage (never an admin's scenario of every territory); none for anybody else."""
    qs = Scenario.objects.select_related("created_by")
    if is_admin(user):
        return qs
    if not is_manager(user):
        return qs.none()
    managed = territory_ids_managed_by(user=user)
    foreign = ScenarioTerritory.objects.filter(scenario=OuterRef("pk")).exclude(source_id__in=managed)
    return qs.filter(covers_all=False).exclude(Exists(foreign)).filter(territories__isnull=False).distinct()


def access_scenario(*, user, scenario_id: int) -> Scenario:
    scenario = scenario_list(user=user).filter(pk=scenario_id).first()
    if scenario is None:
        raise Http404("No such scenario.")
    return scenario


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value


def scenario_comparison(*, scenario: Scenario) -> dict | None:
    """Live vs the scenario (the balancer's answer) vs a greedy round robin: per rep their accounts, potential, Tier 1
    accounts and moves; per plan the spread of potential per rep (max/min, Gini), of counts and of Tier 1, and the
    accounts moved. None before the balancer ran."""
    result = scenario.result or {}
    plans = result.get("plans")
    if not plans:
        return None
    rep_ids = result.get("rep_ids", [])
    people = {u.pk: u for u in User.objects.filter(pk__in=rep_ids).only("username", "first_name", "last_name")}
    reps = []
    for i, user_id in enumerate(rep_ids):
        user = people.get(user_id)
        row = {"user_id": user_id, "name": (user.get_full_name() or user.username) if user else f"user {user_id}"}
        for plan in PLAN_LABELS:
            figures = plans[plan]
            row[plan] = {key: figures[key][i] for key in ("count", "potential", "tier1", "moves_in", "moves_out")}
        reps.append(row)
    reps.sort(key=lambda r: (r["name"].lower(), r["user_id"]))
    summary = [
        {
            "plan": plan,
            "label": label,
            "accounts_moved": plans[plan]["accounts_moved"],
            "unassigned": plans[plan]["unassigned"],
            **{
                key: _number(plans[plan].get(key))
                for key in (
                    "potential_max_min", "potential_gini", "count_max_min", "count_gini", "tier1_max_min", "tier1_gini",
                )
            },
        }
        for plan, label in PLAN_LABELS.items()
    ]  # fmt: skip
    status = result.get("status", "")
    return {
        "status": status,
        "status_text": STATUS_TEXT.get(status, status),
        "message": result.get("message", ""),
        "seconds": result.get("seconds"),
        "considered": result.get("considered", 0),
        "balanced_accounts": result.get("balanced_accounts", 0),
        "no_territory": result.get("no_territory", 0),
        "accounts_changing": result.get("accounts_changing", 0),
        "plans": summary,
        "reps": reps,
    }
