"""Pages of territory planning: managers (for the territories they manage) and RevOps admins copy the live territories
into a scenario, change its rules, members and balancer settings, run the balancer, compare, and apply."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.decorators import role_required
from core.roles import ADMIN, MANAGER, is_admin

from .models import Scenario, ScenarioMember
from .scenario_forms import (
    ApplyConfirmForm,
    ScenarioMemberAddForm,
    ScenarioMemberForm,
    ScenarioNewForm,
    ScenarioRulesEditor,
    ScenarioSettingsForm,
    scenario_settings_initial,
)
from .scenario_selectors import access_scenario, scenario_comparison, scenario_list
from .services.scenarios import (
    scenario_apply_start,
    scenario_apply_summary,
    scenario_base_changed,
    scenario_create,
    scenario_delete,
    scenario_member_add,
    scenario_member_update,
    scenario_run_start,
    scenario_territory_update,
    scenario_update,
)
from .services.scenarios import scenario_member_remove as member_remove
from .views import person, rule_lines

SCENARIOS_PER_PAGE = 25
REPS_PER_PAGE = 100


def _refusal(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, problems in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, exc.messages)


@role_required(MANAGER, ADMIN)
def scenario_index(request):
    """The scenarios a user may plan in, and a form to copy the live territories into a new one."""
    form = ScenarioNewForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            scenario = scenario_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            _add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            count = scenario.territories.count()
            messages.success(request, f"Copied {count:,} territor{'y' if count == 1 else 'ies'} into {scenario.name}.")
            return redirect("scenario-detail", scenario_id=scenario.pk)
    page = Paginator(scenario_list(user=request.user), SCENARIOS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "territories/scenarios/list.html", {"form": form, "page": page})


def _territories(scenario: Scenario) -> list:
    territories = list(scenario.territories.select_related("parent").prefetch_related("members__user"))
    for territory in territories:
        territory.rule_lines = rule_lines(territory.criteria)
        territory.member_list = sorted(territory.members.all(), key=lambda m: (m.role, person(m.user).lower()))
        for member in territory.member_list:
            member.person = person(member.user)
    return territories


@role_required(MANAGER, ADMIN)
def scenario_detail(request, scenario_id: int):
    """The scenario: its balancer settings (saved here), territories with rules and members to edit."""
    scenario = access_scenario(user=request.user, scenario_id=scenario_id)
    form = ScenarioSettingsForm(
        request.POST if request.method == "POST" else None, initial=scenario_settings_initial(scenario)
    )
    if form.is_bound and form.is_valid():
        try:
            scenario_update(scenario=scenario, values=form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Saved the balancer settings. Run the balancer to see what they change.")
            return redirect("scenario-detail", scenario_id=scenario.pk)
    context = {
        "scenario": scenario,
        "form": form,
        "territories": _territories(scenario),
        "editable": scenario.status in (Scenario.Status.DRAFT, Scenario.Status.READY),
        "base_changed": scenario.status != Scenario.Status.APPLIED and scenario_base_changed(scenario=scenario),
    }
    return render(request, "territories/scenarios/detail.html", context)


def _scenario_territory(request, scenario_id: int, territory_id: int):
    scenario = access_scenario(user=request.user, scenario_id=scenario_id)
    territory = scenario.territories.filter(pk=territory_id).first()
    if territory is None:
        raise Http404("No such territory in this scenario.")
    return scenario, territory


def _scenario_member(request, scenario_id: int, member_id: int):
    scenario = access_scenario(user=request.user, scenario_id=scenario_id)
    member = (
        ScenarioMember.objects.select_related("territory", "user")
        .filter(pk=member_id, territory__scenario=scenario)
        .first()
    )
    if member is None:
        raise Http404("No such member in this scenario.")
    member.person = person(member.user)
    return scenario, member


@role_required(MANAGER, ADMIN)
def scenario_territory_edit(request, scenario_id: int, territory_id: int):
    """A scenario territory's rules, priority, strategy and activity."""
    scenario, territory = _scenario_territory(request, scenario_id, territory_id)
    editor = ScenarioRulesEditor(request.POST if request.method == "POST" else None, territory=territory)
    if request.method == "POST" and editor.is_valid():
        try:
            scenario_territory_update(territory=territory, values=editor.values())
        except ValidationError as exc:
            editor.add_errors(exc)
        else:
            messages.success(request, f"Saved the rules of {territory.name} in this scenario.")
            return redirect("scenario-detail", scenario_id=scenario.pk)
    context = {"scenario": scenario, "territory": territory, "editor": editor, "form": editor.form,
               "rules": editor.rules}  # fmt: skip
    return render(request, "territories/scenarios/rules_form.html", context)


@role_required(MANAGER, ADMIN)
def scenario_member_edit(request, scenario_id: int, member_id: int):
    scenario, member = _scenario_member(request, scenario_id, member_id)
    form = ScenarioMemberForm(request.POST or None, instance=member, may_set_role=is_admin(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            scenario_member_update(member=member, values=form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Saved {member.person} in {member.territory.name} (this scenario only).")
            return redirect("scenario-detail", scenario_id=scenario.pk)
    return render(request, "territories/scenarios/member_form.html", {"scenario": scenario, "member": member,
                                                                      "form": form})  # fmt: skip


@role_required(MANAGER, ADMIN)
def scenario_member_new(request, scenario_id: int, territory_id: int):
    scenario, territory = _scenario_territory(request, scenario_id, territory_id)
    form = ScenarioMemberAddForm(
        request.POST if request.method == "POST" else None, territory=territory, may_set_role=is_admin(request.user)
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        values = {k: data[k] for k in ("role", "max_accounts", "max_tier1_accounts", "weight")}
        try:
            scenario_member_add(territory=territory, user=data["person"], values=values)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{person(data['person'])} joined {territory.name} in this scenario.")
            return redirect("scenario-detail", scenario_id=scenario.pk)
    return render(request, "territories/scenarios/member_new.html", {"scenario": scenario, "territory": territory,
                                                                     "form": form})  # fmt: skip


@role_required(MANAGER, ADMIN)
def scenario_member_remove(request, scenario_id: int, member_id: int):
    """Asks first; removing a member from the scenario leaves the live territory alone."""
    scenario, member = _scenario_member(request, scenario_id, member_id)
    if request.method == "POST":
        try:
            member_remove(member=member)
        except ValidationError as exc:
            messages.error(request, _refusal(exc))
        else:
            messages.success(request, f"Removed {member.person} from {member.territory.name} in this scenario.")
        return redirect("scenario-detail", scenario_id=scenario.pk)
    return render(request, "territories/scenarios/member_remove.html", {"scenario": scenario, "member": member})


@require_POST
@role_required(MANAGER, ADMIN)
def scenario_run(request, scenario_id: int):
    scenario = access_scenario(user=request.user, scenario_id=scenario_id)
    try:
        job = scenario_run_start(scenario=scenario, user=request.user)
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
        return redirect("scenario-detail", scenario_id=scenario.pk)
    job.refresh_from_db(fields=["status"])
    if job.status == job.Status.SUCCEEDED:
        messages.success(request, f"The balancer has answered (job {job.pk}).")
    elif job.status == job.Status.FAILED:
        messages.error(request, f"The balancer failed (job {job.pk}): its page says why.")
    else:
        messages.info(request, f"The balancer is running (job {job.pk}); this page shows its answer once it is done.")
    return redirect("scenario-compare", scenario_id=scenario.pk)


@role_required(MANAGER, ADMIN)
def scenario_compare(request, scenario_id: int):
    """Live vs the scenario vs a greedy round robin, per rep and in spread."""
    scenario = access_scenario(user=request.user, scenario_id=scenario_id)
    comparison = scenario_comparison(scenario=scenario)
    reps = Paginator(comparison["reps"] if comparison else [], REPS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"scenario": scenario, "comparison": comparison, "reps": reps}
    return render(request, "territories/scenarios/compare.html", context)


@role_required(MANAGER, ADMIN)
def scenario_apply(request, scenario_id: int):
    """What applying will change, to confirm; then the apply job."""
    scenario = access_scenario(user=request.user, scenario_id=scenario_id)
    summary = scenario_apply_summary(scenario=scenario) if scenario.status == Scenario.Status.READY else None
    form = ApplyConfirmForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            job = scenario_apply_start(
                scenario=scenario, user=request.user, base_change_accepted=form.cleaned_data["accept_base_change"]
            )
        except ValidationError as exc:
            form.add_error("accept_base_change" if summary and summary.base_changed else None, _refusal(exc))
        else:
            messages.info(request, f"Applying {scenario.name}; this page follows its progress.")
            return redirect("job-detail", job_id=job.pk)
    return render(
        request, "territories/scenarios/apply_confirm.html", {"scenario": scenario, "summary": summary, "form": form}
    )


@role_required(MANAGER, ADMIN)
def scenario_remove(request, scenario_id: int):
    """Asks first; deleting a scenario changes nothing live."""
    scenario = access_scenario(user=request.user, scenario_id=scenario_id)
    if request.method == "POST":
        try:
            scenario_delete(scenario=scenario)
        except ValidationError as exc:
            messages.error(request, _refusal(exc))
            return redirect("scenario-detail", scenario_id=scenario.pk)
        messages.success(request, f"Deleted the scenario {scenario.name}.")
        return redirect("scenario-list")
    return render(request, "territories/scenarios/delete_confirm.html", {"scenario": scenario})
