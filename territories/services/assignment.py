"""Assignment of accounts to territories and owners: plan (preview), apply (as a job), manual reassignment."""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.changes import owners_changed
from accounts.criteria import ACCOUNT_FIELDS, VALUE_COLUMNS, values_reader
from accounts.events import owner_changes_record
from accounts.models import Account, PendingRoute
from core.bulk import binding_cursor, copy_rows
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
    """What a run decided, aggregated as it streamed: never the moves themselves (they go, a chunk at a time, to
    whoever asked for them: the apply, a stored preview, the command's listing)."""

    considered: int = 0
    move_count: int = 0
    unassigned: int = 0
    outside_scope: int = 0
    counts_before: Counter = field(default_factory=Counter)  # owner id -> accounts owned (among those considered)
    counts_after: Counter = field(default_factory=Counter)
    territories_before: Counter = field(default_factory=Counter)  # territory id (None: no territory) -> accounts
    territories_after: Counter = field(default_factory=Counter)
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

    def territory_counts(self) -> list[dict]:
        """Accounts per territory (None: in no territory), among the accounts considered, before and after."""
        ids = set(self.territories_before) | set(self.territories_after)
        names = dict(Territory.objects.filter(pk__in=ids - {None}).values_list("pk", "name"))
        rows = [
            {
                "territory_id": tid,
                "name": "No territory" if tid is None else names.get(tid, str(tid)),
                "before": self.territories_before[tid],
                "after": self.territories_after[tid],
            }
            for tid in ids
        ]
        return sorted(rows, key=lambda r: (r["territory_id"] is None, r["name"].lower(), r["territory_id"] or 0))


def _scope_filter(*, user) -> set[int] | None:
    """Territory ids a user may assign within (None: all, for admins)."""
    if is_admin(user):
        return None
    if is_manager(user):
        return territory_ids_managed_by(user=user)
    raise PermissionDenied("Only managers and RevOps admins may assign owners.")


def routing_columns(router: Router) -> tuple[str, ...]:
    """What a run reads of each account: its name, owner and territory, and only the fields its territories' rules
    name (the account's `attributes` only when a rule names something that is not a field). A value no rule reads
    changes no decision; not reading it spares decoding the JSON columns of every account."""
    named = {c.attribute for t in router.matcher.territories for c in t.criteria}
    fields = [f for f in ACCOUNT_FIELDS if f in named and f != "name"]
    attributes = ["attributes"] if named - set(ACCOUNT_FIELDS) else []
    return ("id", "name", *fields, *attributes, "owner_id", "territory_id")


def _account_chunks(
    *, scope: set[int] | None, account_ids: list[int] | None, chunk_size: int, columns: tuple[str, ...]
) -> Iterator[list[dict]]:
    """The accounts a run reads, `chunk_size` at a time in id order (keyset: each chunk starts after the last id of
    the one before, so no chunk is read twice nor skipped while earlier ones are being moved)."""
    accounts = Account.objects.order_by("id")
    if scope is not None:
        accounts = accounts.filter(territory_id__in=scope)
    if account_ids is not None:
        ids = sorted(set(account_ids))
        for start in range(0, len(ids), chunk_size):
            rows = list(accounts.filter(pk__in=ids[start : start + chunk_size]).values(*columns))
            if rows:
                yield rows
        return
    last = 0
    while rows := list(accounts.filter(pk__gt=last).values(*columns)[:chunk_size]):
        yield rows
        last = rows[-1]["id"]


def _account_count(*, scope: set[int] | None, account_ids: list[int] | None) -> int:
    accounts = Account.objects.all()
    if scope is not None:
        accounts = accounts.filter(territory_id__in=scope)
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    return accounts.count()


def _planned_chunks(
    plan: Plan, *, scope: set[int] | None, account_ids: list[int] | None, chunk_size: int = CHUNK
) -> Iterator[tuple[list[Move], int]]:
    """Route the accounts chunk by chunk; yields each chunk's moves and how many accounts it read, and keeps the
    totals and counts in `plan`. The router carries its rotations and counts from one chunk to the next, so the
    decisions are those of one pass over every account, whatever the chunk size."""
    router = plan.router
    columns = routing_columns(router)
    values_of = values_reader(columns)
    for rows in _account_chunks(scope=scope, account_ids=account_ids, chunk_size=chunk_size, columns=columns):
        moves = []
        for row in rows:
            plan.considered += 1
            owner_id, territory_id = row["owner_id"], row["territory_id"]
            if owner_id:
                plan.counts_before[owner_id] += 1
            plan.territories_before[territory_id] += 1
            decision = router.route(row["id"], values_of(row), owner_id, territory_id)
            if scope is not None and decision.territory_id not in scope:
                plan.outside_scope += 1  # a manager's run never moves an account out of their territories
                decision.territory_id, decision.owner_id = territory_id, owner_id
            elif (decision.owner_id, decision.territory_id) != (owner_id, territory_id):
                moves.append(
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
            plan.territories_after[decision.territory_id] += 1
            if decision.owner_id:
                plan.counts_after[decision.owner_id] += 1
            else:
                plan.unassigned += 1
        plan.move_count += len(moves)
        yield moves, len(rows)


def _new_plan(today: dt.date | None) -> Plan:
    now = timezone.now()
    return Plan(router=_router(today=today or now.date(), now=now))


MovesSink = Callable[[list[Move]], object]
Progress = Callable[[int, int], object]


def _run_plan(
    *,
    scope: set[int] | None,
    account_ids: list[int] | None,
    today: dt.date | None,
    on_moves: MovesSink | None,
    progress: Progress | None,
    chunk_size: int,
) -> Plan:
    plan = _new_plan(today)
    total = _account_count(scope=scope, account_ids=account_ids) if progress else 0
    for moves, _ in _planned_chunks(plan, scope=scope, account_ids=account_ids, chunk_size=chunk_size):
        if on_moves is not None and moves:
            on_moves(moves)
        if progress is not None:
            progress(plan.considered, total)
    return plan


def assignment_plan(
    *,
    user,
    account_ids: list[int] | None = None,
    today: dt.date | None = None,
    on_moves: MovesSink | None = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK,
) -> Plan:
    """What an assignment run by `user` would do, without doing it. Deterministic for the same data. The moves are
    handed to `on_moves` a chunk at a time, in account id order (nothing holds them all)."""
    return _run_plan(
        scope=_scope_filter(user=user),
        account_ids=account_ids,
        today=today,
        on_moves=on_moves,
        progress=progress,
        chunk_size=chunk_size,
    )


@dataclass
class ApplyResult:
    moved: int = 0
    skipped: int = 0  # changed by someone else between plan and apply


OWNERSHIP_LOG_COLUMNS = (
    "account_id", "from_owner_id", "to_owner_id", "from_territory_id", "to_territory_id",
    "changed_by_id", "rule", "job_id", "at",
)  # fmt: skip


def _log_ownership_changes(moves: list[Move], *, changed_by_id: int | None, job_id: int | None) -> None:
    """The change log of one chunk of moves that were made (OwnershipChange, by COPY) and their owner.changed
    events, in the chunk's transaction."""
    now = timezone.now()
    copy_rows(
        OwnershipChange._meta.db_table,
        OWNERSHIP_LOG_COLUMNS,
        [
            (m.account_id, m.from_owner_id, m.to_owner_id, m.from_territory_id, m.to_territory_id, changed_by_id,
             m.rule[:200], job_id, now)
            for m in moves
        ],
    )  # fmt: skip
    owner_changes_record([(m.account_id, m.from_owner_id, m.rule) for m in moves], actor_id=changed_by_id, at=now)


def _apply_chunk(moves: list[Move], *, changed_by_id: int | None, job_id: int | None) -> set[int]:
    """Apply one chunk of moves in one transaction: the accounts still as the plan saw them move, the moves made are
    logged, and their pending handoffs queued to follow the new owners. Returns the ids moved."""
    with transaction.atomic():
        moved = _move_accounts(moves)
        _log_ownership_changes([m for m in moves if m.account_id in moved], changed_by_id=changed_by_id, job_id=job_id)
        owners_changed(moved)  # a pending handoff goes with its account to the new owner
    return moved


def _apply_moves(*, moves: list[Move], changed_by, job: Job | None, progress=None) -> ApplyResult:
    """Apply a list of moves chunk by chunk; each move applies only if the account is still as the plan saw it."""
    result = ApplyResult()
    by = changed_by.pk if changed_by is not None else None
    for start in range(0, len(moves), CHUNK):
        chunk = moves[start : start + CHUNK]
        moved = _apply_chunk(chunk, changed_by_id=by, job_id=job.pk if job else None)
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
    with binding_cursor() as cursor:
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
    """Keep the round-robin position, the rotation credits and last-assignment times for the next run (a few
    statements, whatever the number of territories and members)."""
    last_served = dict(Territory.objects.filter(pk__in=router.rotation).values_list("pk", "rotation_last_user_id"))
    Territory.objects.bulk_update(
        [
            Territory(pk=territory_id, rotation_last_user_id=user_id)
            for territory_id, user_id in router.rotation.items()
            if territory_id in last_served and last_served[territory_id] != user_id
        ],
        ["rotation_last_user_id"],
        batch_size=500,
    )
    credits = {
        (territory_id, member.user_id): member.credit
        for territory_id in router.rotated
        for member in router.members.get(territory_id, [])
    }
    served = {
        (territory_id, member.user_id): member.last_assigned_at
        for territory_id, members in router.members.items()
        for member in members
        if member.last_assigned_at and member.last_assigned_at >= router.now
    }
    territory_ids = {t for t, _ in credits} | {t for t, _ in served}
    if not territory_ids:
        return
    credited, stamped = [], []
    for membership in Membership.objects.filter(territory_id__in=territory_ids).only(
        "pk", "territory_id", "user_id", "rotation_credit", "last_assigned_at"
    ):
        key = (membership.territory_id, membership.user_id)
        if key in credits and membership.rotation_credit != credits[key]:
            membership.rotation_credit = credits[key]
            credited.append(membership)
        if key in served:
            membership.last_assigned_at = served[key]
            stamped.append(membership)
    Membership.objects.bulk_update(credited, ["rotation_credit"], batch_size=500)
    Membership.objects.bulk_update(stamped, ["last_assigned_at"], batch_size=500)


class _ChunkWriter:
    """Applies chunks of moves in `writers` threads, each with its own database connection, at most a few chunks
    behind the planning (so memory stays that of a few chunks). Chunks hold different accounts, so the writers never
    wait on each other's rows; each chunk is one transaction. The first error stops the writing and is raised by `put`
    or `finish`; chunks applied before it stay applied (with more than one writer, a chunk planned after the failing
    one may have been applied too: each move applies only where its account is still as planned, so a run again
    finishes the work)."""

    def __init__(self, apply: Callable[[list[Move]], None], *, writers: int = 1):
        self.apply = apply
        self.chunks: queue.Queue[list[Move] | None] = queue.Queue(maxsize=2 * writers)
        self.error: BaseException | None = None
        self.threads = [
            threading.Thread(target=self._run, name=f"assignment-writer-{n}", daemon=True) for n in range(writers)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        try:
            while (moves := self.chunks.get()) is not None:
                if self.error is None:
                    try:
                        self.apply(moves)
                    except BaseException as exc:  # handed to the planning thread, which raises it
                        self.error = self.error or exc
        finally:
            connection.close()  # this thread's own connection

    def put(self, moves: list[Move]) -> None:
        if self.error is not None:
            raise self.error
        self.chunks.put(moves)

    def finish(self) -> None:
        for _ in self.threads:
            self.chunks.put(None)
        for thread in self.threads:
            thread.join()
        if self.error is not None:
            raise self.error


def assignment_apply(
    *,
    user,
    account_ids: list[int] | None = None,
    job: Job | None = None,
    today: dt.date | None = None,
    on_moves: MovesSink | None = None,
    chunk_size: int = CHUNK,
) -> tuple[Plan, ApplyResult]:
    """Plan and apply as `user` (None: the system, with an admin's reach, e.g. the command or new accounts), a chunk
    of accounts at a time: each chunk's moves are applied (and logged) as soon as they are decided, so memory stays
    that of one chunk whatever the number of accounts. Moves whose account changed in the meantime are skipped, not
    forced."""
    scope = None if user is None else _scope_filter(user=user)
    plan = _new_plan(today)
    total = _account_count(scope=scope, account_ids=account_ids) if job is not None else 0
    result = ApplyResult()
    by, job_id = (user.pk if user is not None else None), (job.pk if job is not None else None)

    counting = threading.Lock()

    def apply(moves: list[Move]) -> None:
        moved = _apply_chunk(moves, changed_by_id=by, job_id=job_id)
        with counting:
            result.moved += len(moved)
            result.skipped += len(moves) - len(moved)

    # On PostgreSQL, outside a caller's transaction, chunks are written on connections of their own while the next
    # ones are planned (the database works while Python routes); in a transaction, or elsewhere, one after the other.
    writer = None
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        writer = _ChunkWriter(apply, writers=settings.ASSIGNMENT_WRITERS)
    try:
        for moves, _ in _planned_chunks(plan, scope=scope, account_ids=account_ids, chunk_size=chunk_size):
            if moves:
                writer.put(moves) if writer is not None else apply(moves)
                if on_moves is not None:
                    on_moves(moves)
            if job is not None:
                job_progress(job=job, done=plan.considered, total=total)
    finally:
        if writer is not None:
            writer.finish()
    _persist_rotation(plan.router)
    return plan, result


def assignment_plan_all(
    *, today: dt.date | None = None, on_moves: MovesSink | None = None, chunk_size: int = CHUNK
) -> Plan:
    """The system's plan over every account (the command's preview)."""
    return _run_plan(scope=None, account_ids=None, today=today, on_moves=on_moves, progress=None, chunk_size=chunk_size)


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
