"""A rep's departure from a territory: deactivated, or away longer than DEPARTURE_ABSENCE_DAYS. Their accounts there
get new owners by the territory's strategy (weighted rotation for round robin), within capacity; the plan is shown
first, then applied as a job. Each move is logged in OwnershipChange under the departure's rule ("Ann Lee left
North" or "away 2026-03-01–2026-03-31"), and each open handoff follows its account to the new owner through the
owner-change queue, keeping its SLA clock."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from core.jobs import job_create, job_progress
from core.models import Job
from core.roles import is_admin

from ..models import Membership
from ..selectors import territory_ids_assignable_by
from .assignment import ApplyResult, Move, _apply_moves, _persist_rotation, _router

PENDING_HANDOFF = "pending"  # the handoff status read through the account's relation


def _person(user) -> str:
    return user.get_full_name() or user.username


def departure_reason(*, membership: Membership, today: dt.date | None = None) -> str | None:
    """Why the member's accounts should be handed over (the rule logged with each move), or None: still here."""
    if membership.role != Membership.Role.REP:
        return None
    if not membership.is_active:
        return f"{_person(membership.user)} left {membership.territory.name}"
    today = today or timezone.localdate()
    if membership.away_from is None and membership.away_until is None:
        return None
    starts = membership.away_from or today
    if membership.away_until is not None and membership.away_until < max(starts, today):
        return None  # back already
    days = None if membership.away_until is None else (membership.away_until - starts).days + 1
    if days is not None and days <= settings.DEPARTURE_ABSENCE_DAYS:
        return None
    until = f"{membership.away_until:%Y-%m-%d}" if membership.away_until else "…"
    return f"away {starts:%Y-%m-%d}–{until}"


@dataclass
class DeparturePlan:
    membership: Membership
    reason: str
    moves: list[Move] = field(default_factory=list)
    handoffs: list[dict] = field(default_factory=list)  # open handoffs: id, account_id, account_name, accept_due_at
    router: object | None = None

    @property
    def counts(self) -> Counter:
        return Counter(m.to_owner_id for m in self.moves)

    @property
    def unassigned(self) -> int:
        return sum(1 for m in self.moves if m.to_owner_id is None)


def _check_scope(*, user, membership: Membership) -> None:
    if user is None or is_admin(user):
        return
    allowed = territory_ids_assignable_by(user=user)
    if allowed is not None and membership.territory_id not in allowed:
        raise PermissionDenied("You may only hand over the accounts of your territories' members.")


def membership_departure_plan(*, user, membership: Membership, today: dt.date | None = None) -> DeparturePlan:
    """Where the departing member's accounts in the territory would go, and which open handoffs go with them;
    nothing changes. Deterministic for the same data, so the job applies what was shown."""
    _check_scope(user=user, membership=membership)
    now = timezone.now()
    today = today or timezone.localdate()
    reason = departure_reason(membership=membership, today=today)
    if reason is None:
        days = settings.DEPARTURE_ABSENCE_DAYS
        raise ValidationError(
            f"{_person(membership.user)} is active and not away for more than {days} days: nothing to hand over."
        )
    router = _router(today=today, now=now)
    territory_id = membership.territory_id
    for member in router.members.get(territory_id, []):
        if member.user_id == membership.user_id:
            member.is_active = False  # the one leaving takes nothing back, whatever their dates say
    plan = DeparturePlan(membership=membership, reason=reason[:200], router=router)
    accounts = Account.objects.filter(territory_id=territory_id, owner_id=membership.user_id).order_by("id")
    for row in accounts.values("id", "name").iterator(chunk_size=2000):
        decision = router.route_within(territory_id, membership.territory.strategy)
        plan.moves.append(
            Move(row["id"], row["name"], membership.user_id, decision.owner_id, territory_id, territory_id, reason)
        )
        router.commit(decision, old_owner_id=membership.user_id, old_territory_id=territory_id)
    open_handoffs = accounts.filter(handoffs__status=PENDING_HANDOFF).values(
        "id", "name", "handoffs__id", "handoffs__accept_due_at"
    )
    plan.handoffs = [
        {
            "id": row["handoffs__id"],
            "account_id": row["id"],
            "account_name": row["name"],
            "accept_due_at": row["handoffs__accept_due_at"],
        }
        for row in open_handoffs.order_by("id")
    ]
    return plan


def membership_departure_apply(
    *, user, membership: Membership, job: Job | None = None, today: dt.date | None = None
) -> tuple[DeparturePlan, ApplyResult]:
    """Plan again and apply: each account moves only if it is still the departing member's (a change made since
    is kept, not overwritten); the rotation's credits are kept for the next run."""
    plan = membership_departure_plan(user=user, membership=membership, today=today)

    def progress(done: int, total: int) -> None:
        if job is not None:
            job_progress(job=job, done=done, total=total)

    result = _apply_moves(moves=plan.moves, changed_by=user, job=job, progress=progress)
    _persist_rotation(plan.router)
    return plan, result


def membership_departure_start(*, user, membership: Membership) -> Job:
    """Check the departure can be handed over, then apply it as a job once the job is committed."""
    from ..tasks import hand_over_task  # the task module imports this one

    membership_departure_plan(user=user, membership=membership)  # refuses what may not or need not be handed over
    title = f"handover of {_person(membership.user)}'s accounts in {membership.territory.name}"
    job = job_create(kind=Job.Kind.ASSIGN, created_by=user, title=title[:200], params={"membership_id": membership.pk})
    transaction.on_commit(lambda: hand_over_task.delay(job.pk))
    return job
