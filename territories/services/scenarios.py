"""Territory planning scenarios: copy the live territory model, change the copy, balance it, compare, apply.

Nothing live changes until a scenario is applied: a scenario holds its own territories (ScenarioTerritory) and
members (ScenarioMember), and the balancer's answer as one proposal per account (ScenarioAssignment). Applying makes
the live territories and memberships those of the scenario, and moves the accounts through the assignment path
(each move logged in OwnershipChange; pending handoffs follow their owners through the owner-change queue).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.criteria import account_values, criterion_from_dict
from accounts.models import Account
from core.jobs import job_create, job_progress
from core.models import Job
from core.services import row_update
from core.tiers import Tier

from .. import balancer
from ..models import (
    Membership,
    Scenario,
    ScenarioAssignment,
    ScenarioMember,
    ScenarioTerritory,
    Territory,
)
from ..routing import Matcher, Member, TerritoryRule
from .assignment import CHUNK, ROUTING_COLUMNS, Move, _apply_moves, _scope_filter
from .carving import territory_problems, territory_update
from .memberships import capacity_changed

TERRITORY_FIELDS = ("priority", "criteria", "strategy", "is_active")
MEMBER_FIELDS = ("role", "max_accounts", "max_tier1_accounts", "away_from", "away_until", "is_active", "weight")
SETTING_FIELDS = ("name", "weight_potential", "weight_count", "weight_tier1", "disruption")
PLANS = ("live", "greedy", "balanced")
BALANCE_SECONDS = 60.0  # the balancer's time limit: past it, its best feasible answer


# --- Scope and state -------------------------------------------------------------------------------------------


def scenario_scope(*, user) -> set[int] | None:
    """Live territory ids a user's scenario may hold: None (all) for admins, those they manage for managers; reps
    and users without a role are refused."""
    try:
        return _scope_filter(user=user)
    except PermissionDenied:
        raise PermissionDenied("Only managers and RevOps admins plan territories.") from None


def _fingerprint(*, scope: set[int] | None) -> str:
    """What the live base of a scenario is: its territories and memberships, each with its last change."""
    territories = Territory.objects.order_by("pk")
    memberships = Membership.objects.order_by("pk")
    if scope is not None:
        territories = territories.filter(pk__in=scope)
        memberships = memberships.filter(territory_id__in=scope)
    digest = hashlib.sha256()
    for pk, stamp in territories.values_list("pk", "updated_at"):
        digest.update(f"t{pk}:{stamp.isoformat()};".encode())
    for pk, stamp in memberships.values_list("pk", "updated_at"):
        digest.update(f"m{pk}:{stamp.isoformat()};".encode())
    return digest.hexdigest()


def scenario_source_ids(*, scenario: Scenario) -> set[int]:
    return set(scenario.territories.exclude(source__isnull=True).values_list("source_id", flat=True))


def scenario_base_changed(*, scenario: Scenario) -> bool:
    """True when the live territories or members the scenario was copied from changed since."""
    scope = None if scenario.covers_all else scenario_source_ids(scenario=scenario)
    return _fingerprint(scope=scope) != scenario.base_fingerprint


def _editable(scenario: Scenario) -> Scenario:
    """Lock the scenario for a change of its plan; refused while the balancer runs and once applied. A change makes
    the last proposal stale: the scenario goes back to draft and must be balanced again before it is applied."""
    locked = Scenario.objects.select_for_update().get(pk=scenario.pk)
    if locked.status == Scenario.Status.APPLIED:
        raise ValidationError("This scenario was applied; copy the live territories into a new one to plan again.")
    if locked.status in (Scenario.Status.RUNNING, Scenario.Status.APPLYING):
        raise ValidationError(f"This scenario cannot change while it is {locked.get_status_display().lower()}.")
    if locked.status != Scenario.Status.DRAFT:
        locked.status = Scenario.Status.DRAFT
        locked.save(update_fields=["status", "updated_at"])
    return locked


# --- Copy and edit ---------------------------------------------------------------------------------------------


@transaction.atomic
def scenario_create(*, user, name: str) -> Scenario:
    """Copy the live territories a user plans for (all for an admin, those they manage for a manager) and their
    members into a new scenario named `name`."""
    scope = scenario_scope(user=user)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the scenario a name."]})
    territories = list(Territory.objects.order_by("pk") if scope is None else Territory.objects.filter(pk__in=scope))
    if not territories:
        raise ValidationError("There are no territories to plan: you manage none.")
    ids = [t.pk for t in territories]
    locked_ids = list(Territory.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
    scenario = Scenario.objects.create(
        name=name, created_by=user, covers_all=scope is None, base_fingerprint=_fingerprint(scope=scope)
    )
    named: dict[int, list[int]] = {}
    for territory_id, account_id in (
        Territory.named_accounts.through.objects.filter(territory_id__in=locked_ids)
        .order_by("account_id")
        .values_list("territory_id", "account_id")
    ):
        named.setdefault(territory_id, []).append(account_id)
    copies = {
        t.pk: ScenarioTerritory.objects.create(
            scenario=scenario,
            source=t,
            name=t.name,
            priority=t.priority,
            criteria=t.criteria,
            named_account_ids=named.get(t.pk, []),
            strategy=t.strategy,
            is_active=t.is_active,
        )
        for t in territories
    }
    for t in territories:
        if t.parent_id in copies:  # a parent outside the scenario is not planned here
            copy = copies[t.pk]
            copy.parent = copies[t.parent_id]
            copy.save(update_fields=["parent"])
    ScenarioMember.objects.bulk_create(
        ScenarioMember(territory=copies[m.territory_id], user_id=m.user_id, **{f: getattr(m, f) for f in MEMBER_FIELDS})
        for m in Membership.objects.filter(territory_id__in=ids).order_by("pk")
    )
    return scenario


@transaction.atomic
def scenario_update(*, scenario: Scenario, values: dict) -> Scenario:
    """Rename the scenario or change the balancer's settings (weights, the minimise-disruption slider, 0-100%)."""
    changes = {name: values[name] for name in SETTING_FIELDS if name in values}
    problems = _setting_problems(changes)
    if problems:
        raise ValidationError(problems)
    locked = _editable(scenario)
    locked, _ = row_update(locked, changes)
    return locked


def _setting_problems(values: dict) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if "name" in values and not str(values["name"] or "").strip():
        problems["name"] = ["Give the scenario a name."]
    for name in ("weight_potential", "weight_count", "weight_tier1"):
        if name in values and (values[name] is None or values[name] < 0):
            problems[name] = ["A weight is 0 or more."]
    if "disruption" in values and not (values["disruption"] is not None and 0 <= values["disruption"] <= 100):
        problems["disruption"] = ["Choose a value from 0 to 100 percent."]
    return problems


@transaction.atomic
def scenario_territory_update(*, territory: ScenarioTerritory, values: dict) -> ScenarioTerritory:
    """Change a scenario territory's rules, priority, strategy or activity (the live territory is untouched)."""
    changes = {name: values[name] for name in TERRITORY_FIELDS if name in values}
    problems = territory_problems(territory=None, values={k: v for k, v in changes.items() if k == "criteria"})
    if problems:
        raise ValidationError(problems)
    _editable(territory.scenario)
    locked, _ = row_update(territory, changes)
    return locked


def _member_problems(values: dict) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    start, end = values.get("away_from"), values.get("away_until")
    if start and end and end < start:
        problems["away_until"] = ["The last day away cannot be before the first."]
    if "weight" in values and (values["weight"] is None or values["weight"] <= 0):
        problems["weight"] = ["A weight is greater than 0."]
    return problems


@transaction.atomic
def scenario_member_add(*, territory: ScenarioTerritory, user, values: dict) -> ScenarioMember:
    """A person joins a scenario territory."""
    fields = {name: values[name] for name in MEMBER_FIELDS if name in values}
    problems = _member_problems(fields)
    if territory.members.filter(user=user).exists():
        problems["user"] = [f"{user.get_full_name() or user.username} is already a member of {territory.name}."]
    if problems:
        raise ValidationError(problems)
    _editable(territory.scenario)
    return ScenarioMember.objects.create(territory=territory, user=user, **fields)


@transaction.atomic
def scenario_member_update(*, member: ScenarioMember, values: dict) -> ScenarioMember:
    """Change a scenario member's role, capacities, away dates, activity or weight."""
    changes = {name: values[name] for name in MEMBER_FIELDS if name in values}
    merged = {"away_from": member.away_from, "away_until": member.away_until, **changes}
    problems = _member_problems(merged)
    if problems:
        raise ValidationError(problems)
    _editable(member.territory.scenario)
    locked, _ = row_update(member, changes)
    return locked


@transaction.atomic
def scenario_member_remove(*, member: ScenarioMember) -> None:
    _editable(member.territory.scenario)
    member.delete()


@transaction.atomic
def scenario_delete(*, scenario: Scenario) -> None:
    locked = Scenario.objects.select_for_update().get(pk=scenario.pk)
    if locked.status in (Scenario.Status.RUNNING, Scenario.Status.APPLYING):
        raise ValidationError(f"This scenario cannot be deleted while it is {locked.get_status_display().lower()}.")
    locked.delete()


# --- Run the balancer ------------------------------------------------------------------------------------------


@transaction.atomic
def scenario_run_start(*, scenario: Scenario, user) -> Job:
    """Start the balancer on the scenario as a job (once the job is committed)."""
    from ..tasks import scenario_run_task  # the task module imports this one

    locked = Scenario.objects.select_for_update().get(pk=scenario.pk)
    if locked.status == Scenario.Status.APPLIED:
        raise ValidationError("This scenario was applied; copy the live territories into a new one to plan again.")
    if locked.status in (Scenario.Status.RUNNING, Scenario.Status.APPLYING):
        raise ValidationError(f"This scenario is already {locked.get_status_display().lower()}.")
    job = job_create(
        kind=Job.Kind.ASSIGN, created_by=user, title=f"balancer run of scenario {locked.name}",
        params={"scenario_id": locked.pk},
    )  # fmt: skip
    locked.status, locked.run_job = Scenario.Status.RUNNING, job
    locked.save(update_fields=["status", "run_job", "updated_at"])
    transaction.on_commit(lambda: scenario_run_task.delay(job.pk))
    return job


@dataclass
class Built:
    problem: balancer.BalanceProblem
    rows: list[dict]  # every account considered, with its live owner and territory
    routed: list[int | None]  # per row: the live territory id the scenario's rules give it (None: none)
    index: dict[int, int]  # account id -> its position in the problem, for those the balancer places
    keep: set[int]  # accounts outside the scenario's territories, which stay as they are


def _rules(territories: list[ScenarioTerritory]) -> list[TerritoryRule]:
    return [
        TerritoryRule(
            id=t.pk,
            name=t.name,
            parent_id=t.parent_id,
            priority=t.priority,
            criteria=tuple(criterion_from_dict(c) for c in t.criteria or []),
            named_account_ids=frozenset(t.named_account_ids or ()),
            is_active=t.is_active,
            strategy=t.strategy,
        )
        for t in territories
    ]


def scenario_problem(*, scenario: Scenario, today: dt.date) -> Built:
    """Route the live accounts with the scenario's rules and state the balancing problem: the scenario's reps, with
    their capacities summed over their territories, and every account with its territory group."""
    territories = list(scenario.territories.prefetch_related("members"))
    matcher = Matcher(_rules(territories))
    by_id = {t.pk: t for t in territories}
    sources = {t.source_id for t in territories if t.source_id}
    reps: dict[int, dict] = {}
    eligible: dict[int, list[int]] = {}
    for t in territories:
        for m in t.members.all():
            if m.role != Membership.Role.REP:
                continue
            rep = reps.setdefault(
                m.user_id, {"capacity": 0.0, "tier1": 0.0, "available": False, "weight": 0.0, "index": len(reps)}
            )
            rep["capacity"] += math.inf if m.max_accounts is None else m.max_accounts
            rep["tier1"] += math.inf if m.max_tier1_accounts is None else m.max_tier1_accounts
            member = Member(user_id=m.user_id, away_from=m.away_from, away_until=m.away_until, is_active=m.is_active)
            rep["available"] |= m.is_active and not member.is_away(today)
            rep["weight"] = max(rep["weight"], float(m.weight))
            if m.is_active:
                eligible.setdefault(t.pk, []).append(rep["index"])
    rep_ids = list(reps)
    groups = {pk: g for g, pk in enumerate(t.pk for t in territories)}
    accounts = Account.objects.order_by("id")
    if not scenario.covers_all:
        accounts = accounts.filter(territory_id__in=sources)
    columns = (*ROUTING_COLUMNS, "potential__expected_value", "score__tier")
    rows, routed, index, keep = [], [], {}, set()
    potential, tier1, current, pinned, group = [], [], [], [], []
    for row in accounts.values(*columns).iterator(chunk_size=CHUNK):
        rows.append(row)
        territory, why = matcher.match(row["id"], account_values(row))
        if territory is None:
            routed.append(None)
            if not scenario.covers_all:  # a manager's plan never moves an account out of their territories
                keep.add(row["id"])
            continue
        copy = by_id[territory.id]
        routed.append(copy.source_id)
        owner = reps.get(row["owner_id"])
        index[row["id"]] = len(potential)
        potential.append(float(row["potential__expected_value"] or 0))
        tier1.append(row["score__tier"] == Tier.TIER_1)
        current.append(owner["index"] if owner else -1)
        keeps = why.startswith("named") and owner is not None and owner["index"] in eligible.get(copy.pk, [])
        pinned.append(owner["index"] if keeps else -1)
        group.append(groups[copy.pk])
    problem = balancer.BalanceProblem(
        rep_ids=np.array(rep_ids, dtype=np.int64),
        capacity=np.array([reps[u]["capacity"] for u in rep_ids], dtype=float),
        tier1_capacity=np.array([reps[u]["tier1"] for u in rep_ids], dtype=float),
        available=np.array([reps[u]["available"] for u in rep_ids], dtype=bool),
        weight=np.array([reps[u]["weight"] for u in rep_ids], dtype=float),
        account_ids=np.array(list(index), dtype=np.int64),
        potential=np.array(potential, dtype=float),
        tier1=np.array(tier1, dtype=bool),
        current_owner=np.array(current, dtype=np.int64),
        pinned_owner=np.array(pinned, dtype=np.int64),
        eligible=[np.array(eligible.get(t.pk, []), dtype=np.int64) for t in territories],
        group=np.array(group, dtype=np.int64),
        group_names=[t.name for t in territories],
    )
    return Built(problem=problem, rows=rows, routed=routed, index=index, keep=keep)


def _plain(value):
    """A metric as JSON keeps it: numbers, lists of numbers; infinity as null."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def scenario_run(*, scenario: Scenario, job: Job | None = None, today: dt.date | None = None) -> dict:
    """Balance the scenario: store the proposed owner and territory of every account it covers, and the figures of
    the live plan, a greedy round robin and the balancer's answer. Safe to re-run: the proposal is replaced."""
    today = today or timezone.now().date()
    scenario = Scenario.objects.get(pk=scenario.pk)  # the settings as saved, not as the caller last read them

    def progress(done: int) -> None:
        if job is not None:
            job_progress(job=job, done=done, total=4)

    progress(0)
    built = scenario_problem(scenario=scenario, today=today)
    problem = built.problem
    progress(1)
    weights = balancer.BalanceWeights(
        potential=float(scenario.weight_potential),
        count=float(scenario.weight_count),
        tier1=float(scenario.weight_tier1),
        disruption=scenario.disruption / 100,
    )
    greedy = balancer.greedy_round_robin(problem)
    answer = balancer.balance(problem, weights, time_limit=BALANCE_SECONDS)
    progress(2)
    owners = {"live": problem.current_owner, "greedy": greedy.owner, "balanced": answer.owner}
    plans = {name: {k: _plain(v) for k, v in balancer.plan_metrics(problem, o).items()} for name, o in owners.items()}
    rep_ids = problem.rep_ids.tolist()
    proposals = []
    for row, territory_id in zip(built.rows, built.routed, strict=True):
        if row["id"] in built.keep:
            to_owner, to_territory = row["owner_id"], row["territory_id"]
        elif row["id"] in built.index:
            chosen = int(answer.owner[built.index[row["id"]]])
            to_owner, to_territory = (rep_ids[chosen] if chosen >= 0 else None), territory_id
        else:
            to_owner, to_territory = None, None
        proposals.append(
            ScenarioAssignment(
                scenario=scenario, account_id=row["id"], from_owner_id=row["owner_id"],
                from_territory_id=row["territory_id"], to_owner_id=to_owner, to_territory_id=to_territory,
            )
        )  # fmt: skip
    moved = sum(1 for p in proposals if (p.from_owner_id, p.from_territory_id) != (p.to_owner_id, p.to_territory_id))
    result = {
        "status": answer.status,
        "message": answer.message,
        "seconds": round(answer.seconds, 2),
        "greedy_message": greedy.message,
        "considered": len(built.rows),
        "balanced_accounts": len(built.index),
        "no_territory": sum(1 for t in built.routed if t is None),
        "accounts_changing": moved,
        "today": today.isoformat(),
        "rep_ids": rep_ids,
        "plans": plans,
    }
    with transaction.atomic():
        locked = Scenario.objects.select_for_update().get(pk=scenario.pk)
        ScenarioAssignment.objects.filter(scenario=locked).delete()
        ScenarioAssignment.objects.bulk_create(proposals, batch_size=CHUNK)
        if locked.status in (Scenario.Status.APPLYING, Scenario.Status.APPLIED):
            raise ValidationError("This scenario was applied; its proposal stays as it was applied.")
        locked.result, locked.ran_at, locked.status = result, timezone.now(), Scenario.Status.READY
        locked.save(update_fields=["result", "ran_at", "status", "updated_at"])
    progress(4)
    return result


def scenario_run_failed(*, scenario_id: int) -> None:
    """A balancer run that failed leaves the scenario a draft, to be run again."""
    Scenario.objects.filter(pk=scenario_id, status=Scenario.Status.RUNNING).update(status=Scenario.Status.DRAFT)


# --- Apply -----------------------------------------------------------------------------------------------------


@dataclass
class ApplySummary:
    territories: int  # live territories whose rules, priority, strategy, activity, parent or named accounts change
    members: int  # memberships added, changed or removed
    accounts: int  # accounts whose owner or territory changes
    base_changed: bool


def _territory_values(copy: ScenarioTerritory, parents: dict[int, int | None]) -> dict:
    return {
        "priority": copy.priority,
        "criteria": copy.criteria,
        "strategy": copy.strategy,
        "is_active": copy.is_active,
        "parent_id": parents.get(copy.parent_id) if copy.parent_id else None,
    }


def _plan_changes(scenario: Scenario):
    """(territory changes, membership creates, updates, deletes) that applying the scenario would make."""
    copies = [t for t in scenario.territories.prefetch_related("members") if t.source_id]
    parents = {t.pk: t.source_id for t in scenario.territories.all()}
    live = {t.pk: t for t in Territory.objects.filter(pk__in=[c.source_id for c in copies])}
    named: dict[int, set[int]] = {}
    for territory_id, account_id in Territory.named_accounts.through.objects.filter(
        territory_id__in=list(live)
    ).values_list("territory_id", "account_id"):
        named.setdefault(territory_id, set()).add(account_id)
    territory_changes = []
    for copy in copies:
        territory = live.get(copy.source_id)
        if territory is None:
            continue
        values = _territory_values(copy, parents)
        if copy.parent_id is None and territory.parent_id is not None and not scenario.covers_all:
            values["parent_id"] = territory.parent_id  # a parent outside a manager's scenario stays
        changed = {k: v for k, v in values.items() if getattr(territory, k) != v}
        if set(copy.named_account_ids or ()) != named.get(territory.pk, set()):
            changed["named_accounts"] = copy.named_account_ids
        if changed:
            territory_changes.append((territory, changed))
    memberships = {(m.territory_id, m.user_id): m for m in Membership.objects.filter(territory_id__in=list(live))}
    creates, updates, wanted = [], [], set()
    for copy in copies:
        if copy.source_id not in live:
            continue
        for member in copy.members.all():
            key = (copy.source_id, member.user_id)
            wanted.add(key)
            values = {f: getattr(member, f) for f in MEMBER_FIELDS}
            existing = memberships.get(key)
            if existing is None:
                creates.append((live[copy.source_id], member.user_id, values))
            elif any(getattr(existing, f) != v for f, v in values.items()):
                updates.append((existing, values))
    deletes = [m for key, m in memberships.items() if key not in wanted]
    return territory_changes, creates, updates, deletes


def _moves(scenario: Scenario) -> list[Move]:
    rule = f"Scenario {scenario.name} applied"
    return [
        Move(a.account_id, "", a.from_owner_id, a.to_owner_id, a.from_territory_id, a.to_territory_id, rule)
        for a in scenario.assignments.order_by("account_id").only(
            "account_id", "from_owner_id", "to_owner_id", "from_territory_id", "to_territory_id"
        )
        if (a.from_owner_id, a.from_territory_id) != (a.to_owner_id, a.to_territory_id)
    ]


def scenario_apply_summary(*, scenario: Scenario) -> ApplySummary:
    """What applying the scenario would change, for the confirmation."""
    territory_changes, creates, updates, deletes = _plan_changes(scenario)
    return ApplySummary(
        territories=len(territory_changes),
        members=len(creates) + len(updates) + len(deletes),
        accounts=len(_moves(scenario)),
        base_changed=scenario_base_changed(scenario=scenario),
    )


@transaction.atomic
def scenario_apply_start(*, scenario: Scenario, user, base_change_accepted: bool = False) -> Job:
    """Start applying a balanced scenario as a job. Refused once applied, before a run, and (unless accepted) when
    the live territories or members it was copied from changed since."""
    from ..tasks import scenario_apply_task  # the task module imports this one

    locked = Scenario.objects.select_for_update().get(pk=scenario.pk)
    if locked.status in (Scenario.Status.APPLIED, Scenario.Status.APPLYING):
        raise ValidationError("This scenario was already applied; it cannot be applied again.")
    if locked.status != Scenario.Status.READY:
        raise ValidationError("Run the balancer on this scenario (again) before applying it.")
    if scenario_base_changed(scenario=locked) and not base_change_accepted:
        raise ValidationError(
            "The live territories or members changed since this scenario was copied: applying it replaces those "
            "changes. Confirm that you accept this."
        )
    job = job_create(
        kind=Job.Kind.ASSIGN, created_by=user, title=f"applying scenario {locked.name}",
        params={"scenario_id": locked.pk},
    )  # fmt: skip
    locked.status, locked.apply_job = Scenario.Status.APPLYING, job
    locked.save(update_fields=["status", "apply_job", "updated_at"])
    transaction.on_commit(lambda: scenario_apply_task.delay(job.pk))
    return job


def scenario_apply(*, scenario: Scenario, user, job: Job | None = None) -> dict:
    """Make the live territories and memberships those of the scenario, then move the accounts to their proposed
    owners and territories (each move logged; a move whose account changed meanwhile is skipped). Safe to re-run:
    what is already applied is found unchanged."""
    with transaction.atomic():
        territory_changes, creates, updates, deletes = _plan_changes(scenario)
        for territory, changed in territory_changes:
            values = {k: v for k, v in changed.items() if k != "parent_id"}
            if "parent_id" in changed:
                values["parent"] = Territory.objects.filter(pk=changed["parent_id"]).first()
            territory_update(territory=territory, user=user, values=values)
        for territory, user_id, values in creates:
            Membership.objects.create(territory=territory, user_id=user_id, **values)
        for membership, values in updates:
            row_update(membership, values)
        for membership in deletes:
            membership.delete()
        touched = {t.pk for t, _, _ in creates} | {m.territory_id for m, _ in updates}
        capacity_changed(touched | {m.territory_id for m in deletes})

    def progress(done: int, total: int) -> None:
        if job is not None:
            job_progress(job=job, done=done, total=total)

    outcome = _apply_moves(moves=_moves(scenario), changed_by=user, job=job, progress=progress)
    Scenario.objects.filter(pk=scenario.pk).update(
        status=Scenario.Status.APPLIED, applied_at=timezone.now(), applied_by=user, updated_at=timezone.now()
    )
    return {
        "territories changed": len(territory_changes),
        "members added, changed or removed": len(creates) + len(updates) + len(deletes),
        "accounts moved": outcome.moved,
        "skipped (changed meanwhile)": outcome.skipped,
    }


def scenario_apply_failed(*, scenario_id: int) -> None:
    """An apply that failed may be started again (what it applied is found unchanged)."""
    Scenario.objects.filter(pk=scenario_id, status=Scenario.Status.APPLYING).update(status=Scenario.Status.READY)
