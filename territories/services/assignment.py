"""Assignment of accounts to territories and owners: plan (preview), apply (as a job), manual reassignment."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.changes import owners_changed
from accounts.criteria import VALUE_COLUMNS, account_values
from accounts.events import owner_changes_record
from accounts.models import Account, PendingRoute
from core.bulk import copy_rows
from core.jobs import job_create, job_progress
from core.models import Job
from core.queues import queue_add, queue_claim
from core.roles import is_admin, is_manager

from ..models import Membership, OwnershipChange, Territory
from ..routing import Matcher, Member, Router
from ..selectors import territory_ids_managed_by, territory_rules
from .carving import territory_name_accounts

CHUNK = 2000
# What routing reads of an account: what its rules may name, and its current owner and territory.
ROUTING_COLUMNS = (*VALUE_COLUMNS, "owner_id", "territory_id")


def _router(*, today: dt.date, now: dt.datetime) -> Router:
    rules = territory_rules()
    rotation = dict(Territory.objects.values_list("pk", "rotation_last_user_id"))
    owned = Counter(
        {
            (row["territory_id"], row["owner_id"]): row["n"]
            for row in Account.objects.filter(owner__isnull=False, territory__isnull=False)
            .values("territory_id", "owner_id")
            .annotate(n=Count("id"))
        }
    )
    members: dict[int, list[Member]] = {}
    for m in Membership.objects.filter(user__is_active=True).order_by("user_id"):
        members.setdefault(m.territory_id, []).append(
            Member(
                user_id=m.user_id,
                max_accounts=m.max_accounts,
                owned=owned[(m.territory_id, m.user_id)],
                away_from=m.away_from,
                away_until=m.away_until,
                is_active=m.is_active,
                is_rep=m.role == Membership.Role.REP,
                last_assigned_at=m.last_assigned_at,
                weight=float(m.weight),
                credit=m.rotation_credit,
            )
        )
    return Router(matcher=Matcher(rules), members=members, rotation=rotation, today=today, now=now)


@dataclass
class Move:
    account_id: int
    account_name: str
    from_owner_id: int | None
    to_owner_id: int | None
    from_territory_id: int | None
    to_territory_id: int | None
    rule: str


@dataclass
class Plan:
    considered: int = 0
    moves: list[Move] = field(default_factory=list)
    unassigned: int = 0
    outside_scope: int = 0
    counts_before: Counter = field(default_factory=Counter)
    counts_after: Counter = field(default_factory=Counter)
    router: Router | None = None

    def rep_counts(self) -> list[dict]:
        """Owned accounts per rep (among the accounts considered), before and after."""
        ids = set(self.counts_before) | set(self.counts_after)
        people = {u.pk: u for u in User.objects.filter(pk__in=ids).only("username", "first_name", "last_name")}
        rows = [
            {
                "user_id": uid,
                "username": people[uid].username if uid in people else str(uid),
                "name": (people[uid].get_full_name() or people[uid].username) if uid in people else str(uid),
                "before": self.counts_before[uid],
                "after": self.counts_after[uid],
            }
            for uid in ids
        ]
        return sorted(rows, key=lambda r: (r["name"].lower(), r["user_id"]))


def _scope_filter(*, user) -> set[int] | None:
    """Territory ids a user may assign within (None: all, for admins)."""
    if is_admin(user):
        return None
    if is_manager(user):
        return territory_ids_managed_by(user=user)
    raise PermissionDenied("Only managers and RevOps admins may assign owners.")


def assignment_plan(*, user, account_ids: list[int] | None = None, today: dt.date | None = None) -> Plan:
    """Every move an assignment run by `user` would make, without making it. Deterministic for the same data."""
    return _plan(scope=_scope_filter(user=user), account_ids=account_ids, today=today)


def _plan(*, scope: set[int] | None, account_ids: list[int] | None, today: dt.date | None) -> Plan:
    now = timezone.now()
    router = _router(today=today or now.date(), now=now)
    accounts = Account.objects.order_by("id")
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    if scope is not None:
        accounts = accounts.filter(territory_id__in=scope)
    plan = Plan(router=router)
    for row in accounts.values(*ROUTING_COLUMNS).iterator(chunk_size=CHUNK):
        plan.considered += 1
        owner_id, territory_id = row["owner_id"], row["territory_id"]
        if owner_id:
            plan.counts_before[owner_id] += 1
        decision = router.route(row["id"], account_values(row), owner_id, territory_id)
        if scope is not None and decision.territory_id not in scope:
            plan.outside_scope += 1  # a manager's run never moves an account out of their territories
            decision.territory_id, decision.owner_id = territory_id, owner_id
        elif (decision.owner_id, decision.territory_id) != (owner_id, territory_id):
            plan.moves.append(
                Move(
                    row["id"],
                    row["name"],
                    owner_id,
                    decision.owner_id,
                    territory_id,
                    decision.territory_id,
                    decision.rule,
                )
            )
        router.commit(decision, old_owner_id=owner_id, old_territory_id=territory_id)
        if decision.owner_id:
            plan.counts_after[decision.owner_id] += 1
        else:
            plan.unassigned += 1
    return plan


@dataclass
class ApplyResult:
    moved: int = 0
    skipped: int = 0  # changed by someone else between plan and apply


def _apply_moves(*, moves: list[Move], changed_by, job: Job | None, progress=None) -> ApplyResult:
    """Apply moves chunk by chunk; each move applies only if the account is still as the plan saw it."""
    result = ApplyResult()
    log_columns = [
        "account_id", "from_owner_id", "to_owner_id", "from_territory_id", "to_territory_id",
        "changed_by_id", "rule", "job_id", "at",
    ]  # fmt: skip
    by = changed_by.pk if changed_by is not None else None
    for start in range(0, len(moves), CHUNK):
        chunk = moves[start : start + CHUNK]
        with transaction.atomic():
            moved = _move_accounts(chunk)
            now = timezone.now()
            copy_rows(
                OwnershipChange._meta.db_table,
                log_columns,
                [
                    (m.account_id, m.from_owner_id, m.to_owner_id, m.from_territory_id, m.to_territory_id, by,
                     m.rule[:200], job.pk if job else None, now)
                    for m in chunk
                    if m.account_id in moved
                ],
            )  # fmt: skip
            owners_changed(moved)  # a pending handoff goes with its account to the new owner
            owner_changes_record(
                [(m.account_id, m.from_owner_id, m.rule) for m in chunk if m.account_id in moved], actor_id=by, at=now
            )
        result.moved += len(moved)
        result.skipped += len(chunk) - len(moved)
        if progress:
            progress(min(start + CHUNK, len(moves)), len(moves))
    return result


def _move_accounts(chunk: list[Move]) -> set[int]:
    """A conditional update: an account moves only if its owner and territory are still those the plan saw
    (no check-then-act: a concurrent change wins and the move is skipped). Returns the ids moved."""
    now = timezone.now()
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS a SET owner_id = v.to_owner, territory_id = v.to_territory, updated_at = %s "  # noqa: S608  # nosec B608  # SQL from model table names and constants; every value is a parameter, never input
                "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::integer[]) AS from_owner, "
                "unnest(%s::integer[]) AS to_owner, unnest(%s::bigint[]) AS from_territory, "
                "unnest(%s::bigint[]) AS to_territory) AS v "
                "WHERE a.id = v.id AND a.owner_id IS NOT DISTINCT FROM v.from_owner "
                "AND a.territory_id IS NOT DISTINCT FROM v.from_territory RETURNING a.id",
                [
                    now,
                    [m.account_id for m in chunk],
                    [m.from_owner_id for m in chunk],
                    [m.to_owner_id for m in chunk],
                    [m.from_territory_id for m in chunk],
                    [m.to_territory_id for m in chunk],
                ],
            )
            return {row[0] for row in cursor.fetchall()}
        moved = set()
        stamp = connection.ops.adapt_datetimefield_value(now)
        for m in chunk:
            cursor.execute(
                f"UPDATE {table} SET owner_id = %s, territory_id = %s, updated_at = %s "  # noqa: S608  # nosec B608  # SQL from model table names and constants; every value is a parameter, never input
                "WHERE id = %s AND owner_id IS %s AND territory_id IS %s",
                [m.to_owner_id, m.to_territory_id, stamp, m.account_id, m.from_owner_id, m.from_territory_id],
            )
            if cursor.rowcount == 1:
                moved.add(m.account_id)
        return moved


def _persist_rotation(router: Router) -> None:
    """Keep the round-robin position, the rotation credits and last-assignment times for the next run."""
    for territory_id, user_id in router.rotation.items():
        Territory.objects.filter(pk=territory_id).exclude(rotation_last_user_id=user_id).update(
            rotation_last_user_id=user_id
        )
    for territory_id in router.rotated:
        for member in router.members.get(territory_id, []):
            Membership.objects.filter(territory_id=territory_id, user_id=member.user_id).exclude(
                rotation_credit=member.credit
            ).update(rotation_credit=member.credit)
    for territory_id, members in router.members.items():
        for member in members:
            if member.last_assigned_at and member.last_assigned_at >= router.now:
                Membership.objects.filter(territory_id=territory_id, user_id=member.user_id).update(
                    last_assigned_at=member.last_assigned_at
                )


def assignment_apply(
    *, user, account_ids: list[int] | None = None, job: Job | None = None, today: dt.date | None = None
) -> tuple[Plan, ApplyResult]:
    """Plan and apply as `user` (None: the system, with an admin's reach, e.g. the command or new accounts).

    Moves whose account changed in the meantime are skipped, not forced.
    """
    scope = None if user is None else _scope_filter(user=user)
    plan = _plan(scope=scope, account_ids=account_ids, today=today)

    def progress(done: int, total: int) -> None:
        if job is not None:
            job_progress(job=job, done=done, total=total)

    result = _apply_moves(moves=plan.moves, changed_by=user, job=job, progress=progress)
    _persist_rotation(plan.router)
    return plan, result


def assignment_plan_all(*, today: dt.date | None = None) -> Plan:
    """The system's plan over every account (the command's preview)."""
    return _plan(scope=None, account_ids=None, today=today)


def route_new_accounts(*, account_ids: list[int]) -> ApplyResult:
    """Route accounts that just arrived (import, API) at once, as the system."""
    if not account_ids:
        return ApplyResult()
    return assignment_apply(user=None, account_ids=account_ids)[1]


def route_queued(*, limit: int = CHUNK) -> int:
    """Route the accounts on the routing queue (accounts/changes.py), a batch at a time; returns how many."""
    routed = 0
    while ids := queue_claim(PendingRoute, limit):
        try:
            route_new_accounts(account_ids=ids)
        except Exception:
            queue_add(PendingRoute, ids)  # back on the queue for the next drain
            raise
        routed += len(ids)
    return routed


def assignment_job_start(*, user, account_ids: list[int] | None = None, unrouted: bool = False) -> Job:
    """Record an assignment run as a job and start it once the job is committed. `unrouted`: the run routes again
    the accounts in no territory when it starts (an admin's)."""
    from ..tasks import assign_owners_task  # the task module imports this one

    if unrouted and not is_admin(user):
        raise PermissionDenied("Only RevOps admins route the accounts in no territory.")
    _scope_filter(user=user)
    params = {"unrouted": True} if unrouted else {"account_ids": account_ids}
    title = "routing of the accounts in no territory" if unrouted else "owner assignment"
    job = job_create(kind=Job.Kind.ASSIGN, created_by=user, title=title, params=params)
    transaction.on_commit(lambda: assign_owners_task.delay(job.pk))
    return job


def unrouted_account_ids() -> list[int]:
    """The accounts in no territory, as an assignment run of them reads them."""
    return list(Account.objects.filter(territory__isnull=True).order_by("id").values_list("id", flat=True))


def _admin_only(user) -> None:
    if not is_admin(user):
        raise PermissionDenied("Only RevOps admins route the accounts in no territory.")


def unrouted_route(*, user, account_ids: list[int]) -> tuple[int, int]:
    """Route accounts in no territory again (the rules may have changed since they arrived), as an admin's
    assignment run of them; returns (how many found a territory, how many still match none)."""
    _admin_only(user)
    ids = list(Account.objects.filter(pk__in=account_ids, territory__isnull=True).values_list("pk", flat=True))
    if not ids:
        return 0, 0
    assignment_apply(user=user, account_ids=ids)
    still = Account.objects.filter(pk__in=ids, territory__isnull=True).count()
    return len(ids) - still, still


def unrouted_send(*, user, account_ids: list[int], territory: Territory) -> int:
    """Send accounts in no territory to a territory: they become its named accounts, so routing places them there now
    and on every later run, and its strategy gives each an owner. Returns how many were sent."""
    _admin_only(user)
    ids = list(Account.objects.filter(pk__in=account_ids, territory__isnull=True).values_list("pk", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        territory_name_accounts(territory=territory, account_ids=ids)
        assignment_apply(user=user, account_ids=ids)
    return Account.objects.filter(pk__in=ids, territory=territory).count()


@transaction.atomic
def account_reassign(*, user, account_ids: list[int], owner: User | None) -> int:
    """Manual (re)assignment by a manager within their territories, or by an admin; logged."""
    scope = _scope_filter(user=user)
    accounts = list(Account.objects.select_for_update().filter(pk__in=account_ids).order_by("pk"))
    if len(accounts) != len(set(account_ids)):
        raise ValidationError("Some of these accounts do not exist.")
    changes = []
    for account in accounts:
        if account.territory_id is None:
            raise ValidationError(f"{account.name} is in no territory; route it first.")
        if scope is not None and account.territory_id not in scope:
            raise PermissionDenied(f"{account.name} is outside your territories.")
        if (
            owner is not None
            and not Membership.objects.filter(user=owner, territory_id=account.territory_id, is_active=True).exists()
        ):
            raise ValidationError(f"{owner.username} is not an active member of {account.name}'s territory.")
        if account.owner_id == (owner.pk if owner else None):
            continue
        changes.append(
            OwnershipChange(
                account=account,
                from_owner_id=account.owner_id,
                to_owner=owner,
                from_territory_id=account.territory_id,
                to_territory_id=account.territory_id,
                changed_by=user,
                rule="manual reassignment" if owner else "manual unassignment",
            )
        )
        account.owner = owner
    Account.objects.bulk_update([c.account for c in changes], ["owner", "updated_at"])
    OwnershipChange.objects.bulk_create(changes)
    owners_changed([c.account.pk for c in changes])
    owner_changes_record([(c.account.pk, c.from_owner_id, c.rule) for c in changes], actor_id=user.pk)
    return len(changes)
