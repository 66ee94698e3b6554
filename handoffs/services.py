"""Handoffs: each MQA handed to its account's owner under its tier's SLA, one decision per handoff, and the sweep
that catches breaches.

- An MQA becomes a Handoff to the account's owner, due `accept_within_hours` after assignment on the tier's SLA
  clock (handoffs/sla.py). An account without an owner waits in its territory's unassigned queue; its clock
  starts when it gets an owner.
- Accept or reject: only the owner, only while pending; the decision is a conditional update, so under concurrent
  clicks or retries exactly one succeeds and the others get AlreadyDecided (409 on the API). A rejection needs a
  reason (`other` also a note); the MQA is closed as rejected, which starts the MQA rule's cooldown.
- A pending handoff follows its account to a new owner (a routing run, a manual reassignment).
- The sweep (every minute) first heals what lost wake-ups left: it hands over open MQAs still without a handoff
  and drains the owner-change queue (both are normally done at once, when woken). Then it claims each overdue
  pending handoff exactly once (a conditional update sets breached_at), runs its policy's breach action (notify the
  territory's managers, reassign to the next eligible member, or recycle), and emails through Django's email
  backend; each email is claimed the same way, so none is sent twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Case, JSONField, Q, Value, When
from django.utils import timezone

from accounts.models import Account, PendingOwnerChange
from core.events import Kind
from core.jobs import job_create, job_start, job_succeed
from core.models import Job
from core.queues import queue_add, queue_claim
from core.roles import ADMIN, is_admin
from segmentation.models import MQA
from segmentation.services import mqas_decide
from segmentation.services.recycle import accounts_recycle
from territories.models import Membership
from territories.selectors import can_assign_in
from territories.services import account_reassign

from .events import assigned as handoff_assigned
from .events import handoff_events
from .models import Handoff, SlaPolicy
from .selectors import access_handoff
from .sla import describe, due_at
from .sla_calendars import policy_clock

PENDING = Handoff.Status.PENDING


class AlreadyDecided(Exception):
    """The handoff was decided (or expired) already: nothing changed."""

    message = "This handoff has already been decided."

    def __str__(self) -> str:
        return self.message


def _policies() -> dict[str, SlaPolicy]:
    return {p.tier: p for p in SlaPolicy.objects.all()}


def due_for(policy: SlaPolicy | None, start: dt.datetime) -> dt.datetime | None:
    """When a handoff assigned at `start` must be decided under `policy` (None: no policy, no deadline)."""
    if policy is None:
        return None
    return due_at(policy_clock(policy, around=start), start)


# --- Creation ---------------------------------------------------------------------------------------------------


def handoffs_create(mqa_ids: Iterable[int], *, now: dt.datetime | None = None) -> list[int]:
    """A handoff for each MQA that has none, to its account's owner (or the territory's unassigned queue);
    returns the new handoffs' ids. The owners are emailed once the handoffs are committed."""
    now = now or timezone.now()
    policies = _policies()
    mqas = MQA.objects.filter(pk__in=list(mqa_ids), handoff__isnull=True, status=MQA.Status.OPEN).select_related(
        "account"
    )
    rows = []
    for mqa in mqas:
        owner_id = mqa.account.owner_id
        rows.append(
            Handoff(
                account_id=mqa.account_id,
                mqa=mqa,
                territory_id=mqa.account.territory_id,
                owner_id=owner_id,
                tier=mqa.tier,
                assigned_at=now if owner_id else None,
                accept_due_at=due_for(policies.get(mqa.tier), now) if owner_id else None,
            )
        )
    with transaction.atomic():
        Handoff.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        handoff_assigned(
            Handoff.objects.filter(mqa_id__in=[r.mqa_id for r in rows if r.owner_id], assigned_at=now).values_list(
                "pk", flat=True
            ),
            why="MQA raised",
            at=now,
        )
        ids = list(
            Handoff.objects.filter(mqa_id__in=[r.mqa_id for r in rows], owner_notified_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        _notify_owners_later(ids)
    return ids


def handoffs_follow_owners(account_ids: Iterable[int], *, now: dt.datetime | None = None) -> int:
    """Pending handoffs of accounts whose owner changed go to the new owner keeping their SLA clock: the time the
    account has waited counts, so the new owner has what was left of it (an unassigned handoff's clock starts
    here; a handoff left without an owner waits in the territory's unassigned queue, without a clock). Returns
    how many moved."""
    now = now or timezone.now()
    policies = _policies()
    moved = []
    pending = Handoff.objects.filter(account_id__in=list(account_ids), status=PENDING).select_related("account")
    for handoff in pending:
        if handoff.account.owner_id == handoff.owner_id:
            continue
        new_owner_id = handoff.account.owner_id
        if new_owner_id is None:
            clock = {"assigned_at": None, "accept_due_at": None}
        elif handoff.assigned_at is not None:
            clock = {"assigned_at": handoff.assigned_at, "accept_due_at": handoff.accept_due_at}
        else:
            clock = {"assigned_at": now, "accept_due_at": due_for(policies.get(handoff.tier), now)}
        changed = Handoff.objects.filter(pk=handoff.pk, status=PENDING, owner_id=handoff.owner_id).update(
            owner_id=new_owner_id,
            territory_id=handoff.account.territory_id,
            owner_notified_at=None,
            updated_at=timezone.now(),
            **clock,
        )
        if changed and handoff.account.owner_id:
            moved.append(handoff.pk)
    handoff_assigned(moved, why="its account's owner changed", at=now)
    _notify_owners_later(moved)
    return len(moved)


def handoffs_follow_queued(*, now: dt.datetime | None = None, batch: int = 1000) -> int:
    """Drain the owner-change queue (accounts/changes.py): the accounts' pending handoffs follow them. Returns how
    many handoffs moved."""
    moved = 0
    while ids := queue_claim(PendingOwnerChange, batch):
        try:
            moved += handoffs_follow_owners(ids, now=now)
        except Exception:
            queue_add(PendingOwnerChange, ids)
            raise
    return moved


def handoffs_for_open_mqas(*, now: dt.datetime | None = None, batch: int = 1000) -> int:
    """Hand over every open MQA that has no handoff yet: the wake-up after its MQA pass was lost (a broker or a
    worker down). The minute sweep runs this; returns the handoffs created."""
    created = 0
    while ids := list(
        MQA.objects.filter(status=MQA.Status.OPEN, handoff__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    ):
        made = handoffs_create(ids, now=now)
        created += len(made)
        if len(ids) < batch or not made:
            break
    return created


def _notify_owners_later(handoff_ids: list[int]) -> None:
    if not handoff_ids:
        return
    from .tasks import handoff_notify_owners_task

    transaction.on_commit(lambda: handoff_notify_owners_task.delay(handoff_ids))


def handoffs_notify_owners(handoff_ids: Iterable[int]) -> int:
    """Email each handoff's owner once (the claim is a conditional update); returns the emails sent."""
    sent = 0
    for handoff in Handoff.objects.filter(pk__in=list(handoff_ids)).select_related("account", "owner"):
        if handoff.owner is None or not handoff.owner.email:
            continue
        if not Handoff.objects.filter(pk=handoff.pk, owner_notified_at__isnull=True).update(
            owner_notified_at=timezone.now(), updated_at=timezone.now()
        ):
            continue  # already told
        due = f"{handoff.accept_due_at:%Y-%m-%d %H:%M} UTC" if handoff.accept_due_at else "no deadline"
        send_mail(
            f"New MQA for you: {handoff.account.name} ({handoff.get_tier_display()})",
            f"{handoff.account.name} qualified ({handoff.get_tier_display()}). Accept or reject it by {due} in "
            "your queue (/queue/).",
            None,
            [handoff.owner.email],
        )
        sent += 1
    return sent


# --- Decisions --------------------------------------------------------------------------------------------------


def _get(*, user, handoff_id: int) -> Handoff:
    """The handoff if the user may see it (the same scope as every list of handoffs); 404 otherwise."""
    return access_handoff(user=user, handoff_id=handoff_id)


def person(user) -> str:
    """A user as pages and messages name them: the full name, else the username."""
    return (user.get_full_name() or user.username) if user is not None else "nobody"


def _name(first: str, last: str, username: str) -> str:
    return f"{first or ''} {last or ''}".strip() or username


def rejection_reason(*, user, reason: str, note: str = "") -> str:
    """The tier change's reason when a rejection recycles the account: "Rejected by Dana Reyes: Bad timing"."""
    label = Handoff.Reason(reason).label
    return f"Rejected by {person(user)}: {label}" + (f" ({note})" if note else "")


def _decide(*, user, handoff_id: int, status: str, reason: str = "", note: str = "") -> Handoff:
    handoff = _get(user=user, handoff_id=handoff_id)
    if handoff.owner_id != user.pk:
        raise PermissionDenied("Only the handoff's owner can accept or reject it; managers may reassign it.")
    now = timezone.now()
    with transaction.atomic():
        # The one decision: the first update finds it pending, every later one finds nothing to change.
        if not Handoff.objects.filter(pk=handoff.pk, owner_id=user.pk, status=PENDING).update(
            status=status, decided_by=user, decided_at=now, reason=reason, note=note, updated_at=now
        ):
            raise AlreadyDecided
        mqa_status = MQA.Status.ACCEPTED if status == Handoff.Status.ACCEPTED else MQA.Status.REJECTED
        mqas_decide(mqa_ids=[handoff.mqa_id], status=mqa_status, at=now)
        kind = Kind.HANDOFF_ACCEPTED if status == Handoff.Status.ACCEPTED else Kind.HANDOFF_REJECTED
        handoff_events(kind, [handoff.pk], actor_id=user.pk, at=now)
        if status == Handoff.Status.REJECTED:
            # Back to marketing: the account goes to Recycle and stays there for the cooldown; its owner stays.
            reasons = {handoff.account_id: rejection_reason(user=user, reason=reason, note=note)}
            accounts_recycle(reasons=reasons, at=now)
    handoff.refresh_from_db()
    return handoff


def handoff_accept(*, user, handoff_id: int) -> Handoff:
    """The owner accepts: the account is a Sales Accepted Account."""
    return _decide(user=user, handoff_id=handoff_id, status=Handoff.Status.ACCEPTED)


def handoff_reject(*, user, handoff_id: int, reason: str, note: str = "") -> Handoff:
    """The owner rejects with a reason (`other` needs a note): the MQA closes as rejected and its account goes back to
    marketing: to Recycle, with a tier change naming the rejection, where it stays (and cannot qualify again) within
    the model's cooldown; it keeps its owner. The reason is kept as feedback on the model."""
    note = (note or "").strip()
    if reason not in Handoff.Reason.values:
        raise ValidationError({"reason": f"Choose a reason: {', '.join(Handoff.Reason.values)}."})
    if reason == Handoff.Reason.OTHER and not note:
        raise ValidationError({"note": "Say why in a note when the reason is 'other'."})
    if len(note) > 2000:
        raise ValidationError({"note": "At most 2,000 characters."})
    return _decide(user=user, handoff_id=handoff_id, status=Handoff.Status.REJECTED, reason=reason, note=note)


def can_reassign(*, user, handoff: Handoff) -> bool:
    """Managers of the handoff's territory (and above) and admins may reassign it."""
    return is_admin(user) or can_assign_in(user=user, territory_id=handoff.territory_id)


def handoff_reassign(*, user, handoff_id: int, owner_id: int) -> Handoff:
    """A manager of the handoff's territory (or an admin) gives a pending handoff to another active member; the
    clock starts again for them. The account goes with it: its owner changes through territories' reassignment,
    with that service's checks (the account's territory is the user's, the new owner is its active member), in the
    same transaction, so a refusal there (its ValidationError or PermissionDenied, with the reason) changes
    nothing."""
    handoff = _get(user=user, handoff_id=handoff_id)
    if not can_reassign(user=user, handoff=handoff):
        raise PermissionDenied("Only the territory's managers and admins can reassign a handoff.")
    members = Membership.objects.filter(territory_id=handoff.territory_id, is_active=True, user__is_active=True)
    member = members.select_related("user").filter(user_id=owner_id).first()
    if member is None:
        raise ValidationError({"owner": "Choose an active member of the handoff's territory."})
    now = timezone.now()
    policy = SlaPolicy.objects.filter(tier=handoff.tier).first()
    with transaction.atomic():
        if not Handoff.objects.select_for_update().filter(pk=handoff.pk, status=PENDING).exists():
            raise AlreadyDecided
        account = Account.objects.filter(pk=handoff.account_id).only("owner_id").first()
        if account is not None and account.owner_id != owner_id:
            try:
                account_reassign(user=user, account_ids=[handoff.account_id], owner=member.user)
            except (ValidationError, PermissionDenied) as exc:
                raise ValidationError(
                    {"owner": f"its account's owner cannot change: {' '.join(_messages(exc))}"}
                ) from exc
        Handoff.objects.filter(pk=handoff.pk, status=PENDING).update(
            owner_id=owner_id,
            assigned_at=now,
            accept_due_at=due_for(policy, now),
            owner_notified_at=None,
            updated_at=now,
        )
        handoff_assigned([handoff.pk], why="reassigned by a manager", actor_id=user.pk, at=now)
        _notify_owners_later([handoff.pk])
    handoff.refresh_from_db()
    return handoff


def _messages(exc: Exception) -> list[str]:
    return list(getattr(exc, "messages", None) or [str(exc)])


# --- The sweep --------------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    handed_over: int = 0  # open MQAs that had no handoff (a lost wake-up), handed over now
    followed: int = 0  # pending handoffs given to their account's new owner (a lost wake-up)
    breached: int = 0
    notified: list[int] = field(default_factory=list)
    reassigned: list[int] = field(default_factory=list)
    recycled: list[int] = field(default_factory=list)
    told: int = 0  # breaches of which someone gets an e-mail
    # Who could not be told of breaches (no e-mail address): {person: how many breaches}, and a few of the accounts.
    not_told: dict[str, int] = field(default_factory=dict)
    not_told_accounts: dict[str, list[str]] = field(default_factory=dict)
    job_id: int | None = None  # the job recording this sweep (only a sweep that found breaches records one)

    def notes(self, *, limit: int = 50) -> list[str]:
        """Who could not be told, in words: one sentence per person, naming a few of the accounts."""
        notes = []
        for name, count in sorted(self.not_told.items())[:limit]:
            names = self.not_told_accounts.get(name, [])
            more = f" and {count - len(names):,} more" if count > len(names) else ""
            breaches = "breach" if count == 1 else f"{count:,} breaches"
            notes.append(f"{name} has no e-mail address: not told of the {breaches} of {', '.join(names)}{more}.")
        if len(self.not_told) > limit:
            notes.append(f"{len(self.not_told) - limit:,} more people have no e-mail address.")
        return notes


def _stamp():
    """`updated_at` as raw SQL takes it (the wall clock: when the row changed, whatever moment the sweep works at)."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _claim_overdue(now: dt.datetime) -> list[tuple[int, str]]:
    """Mark every overdue pending handoff breached, each exactly once, against its owner at this moment; returns
    (id, tier) of those marked now."""
    table = Handoff._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET breached_at = %s, breached_by_id = owner_id, updated_at = %s "  # noqa: S608  # nosec B608  # SQL from model table names and constants; every value is a parameter, never input
            "WHERE status = 'pending' AND breached_at IS NULL AND accept_due_at < %s RETURNING id, tier",
            [now, _stamp(), now],
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]


@dataclass(frozen=True)
class Audience:
    """Who hears of a breach: the territory's active managers, or the admins when it has none or none of them has an
    e-mail address. `told`: (name, address) of those e-mailed; `not_told`: the names of those without an address."""

    to: str  # "managers" or "admins"
    told: tuple[tuple[str, str], ...]
    not_told: tuple[str, ...]

    def stored(self) -> dict:
        return {"to": self.to, "told": [name for name, _ in self.told], "not_told": list(self.not_told)}


def breach_audiences(territory_ids: Iterable[int | None]) -> dict[int | None, Audience]:
    """The audience of a breach in each territory (None: a handoff in no territory), in two queries."""
    wanted = set(territory_ids)
    managers: dict[int, list[tuple[str, str]]] = {}
    for territory_id, first, last, username, email in (
        Membership.objects.filter(
            territory_id__in=[t for t in wanted if t is not None],
            role=Membership.Role.MANAGER,
            is_active=True,
            user__is_active=True,
        )
        .order_by("user__first_name", "user__last_name", "user__username")
        .values_list("territory_id", "user__first_name", "user__last_name", "user__username", "user__email")
    ):
        managers.setdefault(territory_id, []).append((_name(first, last, username), (email or "").strip()))
    admins = [
        (_name(first, last, username), (email or "").strip())
        for first, last, username, email in get_user_model()
        .objects.filter(groups__name=ADMIN, is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "username")
        .values_list("first_name", "last_name", "username", "email")
    ]
    audiences = {}
    for territory_id in wanted:
        people = managers.get(territory_id, [])
        not_told = tuple(name for name, email in people if not email)
        told = tuple((name, email) for name, email in people if email)
        to = "managers"
        if not told:  # no manager to tell: the admins hear of it instead
            to = "admins"
            told = tuple((name, email) for name, email in admins if email)
            not_told += tuple(name for name, email in admins if not email)
        audiences[territory_id] = Audience(to=to, told=told, not_told=not_told)
    return audiences


def sla_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Heal what lost wake-ups left behind (open MQAs without a handoff, handoffs left with an account's old owner),
    then claim the overdue pending handoffs and run each one's breach action; running it again does nothing new.

    Each breach counts against the owner at that moment (breached_by), whoever holds the handoff later. Who will be
    told of it, and who cannot be for want of an e-mail address, is stored on the handoff and, with the counts,
    in a job recording the sweep (a sweep that finds no breach records none)."""
    now = now or timezone.now()
    result = SweepResult(handed_over=handoffs_for_open_mqas(now=now), followed=handoffs_follow_queued(now=now))
    with transaction.atomic():
        claimed = _claim_overdue(now)
        result.breached = len(claimed)
        if not claimed:
            return result
        handoff_events(Kind.HANDOFF_BREACHED, [pk for pk, _ in claimed], at=now)
        policies = _policies()
        actions: dict[str, list[int]] = {}
        for pk, tier in claimed:
            policy = policies.get(tier)
            action = policy.breach_action if policy else SlaPolicy.BreachAction.NOTIFY_MANAGER
            actions.setdefault(action, []).append(pk)
        _tell_later(claimed, result)
        recycle = actions.get(SlaPolicy.BreachAction.RECYCLE, [])
        if recycle:
            Handoff.objects.filter(pk__in=recycle, status=PENDING).update(
                status=Handoff.Status.EXPIRED, decided_at=now, updated_at=timezone.now()
            )
            mqa_ids = Handoff.objects.filter(pk__in=recycle).values_list("mqa_id", flat=True)
            mqas_decide(mqa_ids=mqa_ids, status=MQA.Status.CLOSED, at=now)
            accounts_recycle(reasons=_breach_recycle_reasons(recycle, policies), at=now)
            result.recycled = recycle
        result.reassigned = _reassign_to_next(actions.get(SlaPolicy.BreachAction.REASSIGN, []), now, policies)
        result.notified = [pk for pk, _ in claimed]  # the managers hear of every breach, whatever the action
        result.job_id = _record_sweep(result).pk
        ids = result.notified
        transaction.on_commit(lambda: _breach_mail_later(ids))
    return result


def _tell_later(claimed: list[tuple[int, str]], result: SweepResult, *, named: int = 5) -> None:
    """Store on each breached handoff who will be told and who cannot be (one update), and count both in the sweep's
    result, with a few of the accounts each person without an address was not told of."""
    by_territory: dict[int | None, list[int]] = {}
    for pk, territory_id in Handoff.objects.filter(pk__in=[pk for pk, _ in claimed]).values_list("pk", "territory_id"):
        by_territory.setdefault(territory_id, []).append(pk)
    audiences = breach_audiences(by_territory)
    whens = [
        When(
            Q(territory_id=territory_id) if territory_id is not None else Q(territory_id__isnull=True),
            then=Value(audiences[territory_id].stored(), output_field=JSONField()),
        )
        for territory_id in by_territory
    ]
    Handoff.objects.filter(pk__in=[pk for pk, _ in claimed]).update(
        breach_audience=Case(*whens), updated_at=timezone.now()
    )
    for territory_id, pks in by_territory.items():
        audience = audiences[territory_id]
        if audience.told:
            result.told += len(pks)
        if not audience.not_told:
            continue
        accounts = list(
            Handoff.objects.filter(pk__in=sorted(pks)[:named]).order_by("pk").values_list("account__name", flat=True)
        )
        for name in audience.not_told:
            result.not_told[name] = result.not_told.get(name, 0) + len(pks)
            listed = result.not_told_accounts.setdefault(name, [])
            listed.extend(accounts[: named - len(listed)])


def _breach_recycle_reasons(handoff_ids: list[int], policies: dict[str, SlaPolicy]) -> dict[int, str]:
    """Each recycled account's tier change reason: who let the SLA lapse, and the clock."""
    reasons = {}
    for account_id, tier, first, last, username in Handoff.objects.filter(pk__in=handoff_ids).values_list(
        "account_id", "tier", "breached_by__first_name", "breached_by__last_name", "breached_by__username"
    ):
        policy = policies.get(tier)
        within = f" within {describe(policy_clock(policy))}" if policy else ""
        who = _name(first, last, username) if username else "its owner"
        reasons[account_id] = f"Recycled after an SLA breach: {who} did not accept or reject it{within}"
    return reasons


def _record_sweep(result: SweepResult) -> Job:
    """The sweep as a finished job: its counts, and who could not be told of a breach, by name."""
    job = job_create(kind=Job.Kind.OTHER, title="SLA sweep")
    job_start(job=job, total=result.breached)
    summary = {
        "Breached now": result.breached,
        "Reassigned (breach action)": len(result.reassigned),
        "Recycled (breach action)": len(result.recycled),
        "Breaches told by e-mail": result.told,
        "People who could not be told": len(result.not_told),
    }
    job_succeed(job=job, result={"summary": summary, "notes": result.notes()})
    return job


def _breach_mail_later(ids: list[int]) -> None:
    from .tasks import handoff_breach_mail_task

    handoff_breach_mail_task.delay(ids)


def _reassign_to_next(handoff_ids: list[int], now: dt.datetime, policies: dict[str, SlaPolicy]) -> list[int]:
    """Give breached handoffs to the next eligible rep of their territory after their owner (by username, wrapping):
    an active member, not away today. A handoff with no one else eligible stays with its owner (the managers are
    told all the same). Set-based: one read of the handoffs, one of the members, batched writes. Returns the ids
    reassigned."""
    if not handoff_ids:
        return []
    today = now.date()
    handoffs = list(
        Handoff.objects.filter(pk__in=handoff_ids).values_list(
            "pk", "territory_id", "owner__username", "owner_id", "tier"
        )
    )
    members: dict[int, list[tuple[str, int]]] = {}
    for territory_id, username, user_id, away_from, away_until in Membership.objects.filter(
        territory_id__in={h[1] for h in handoffs}, role=Membership.Role.REP, is_active=True, user__is_active=True
    ).values_list("territory_id", "user__username", "user_id", "away_from", "away_until"):
        if away_from and away_from <= today and (away_until is None or today <= away_until):
            continue
        members.setdefault(territory_id, []).append((username, user_id))
    for listed in members.values():
        listed.sort()
    due = {tier: due_for(policies.get(tier), now) for tier in {h[4] for h in handoffs}}
    moved: list[tuple[int, int, dt.datetime | None]] = []
    for pk, territory_id, username, owner_id, tier in handoffs:
        listed = [m for m in members.get(territory_id, []) if m[1] != owner_id]
        if listed:
            after = username or ""
            moved.append((pk, next((m for m in listed if m[0] > after), listed[0])[1], due[tier]))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Handoff._meta.db_table} AS h SET owner_id = v.owner_id, assigned_at = %s, "  # noqa: S608  # nosec B608  # SQL from model table names and constants; every value is a parameter, never input
                "accept_due_at = v.due, owner_notified_at = NULL, updated_at = %s "
                "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::int[]) AS owner_id, "
                "unnest(%s::timestamptz[]) AS due) AS v WHERE h.id = v.id",
                [now, timezone.now(), [m[0] for m in moved], [m[1] for m in moved], [m[2] for m in moved]],
            )
    else:
        Handoff.objects.bulk_update(
            [Handoff(pk=pk, owner_id=owner, assigned_at=now, accept_due_at=when) for pk, owner, when in moved],
            ["owner_id", "assigned_at", "accept_due_at"],
            batch_size=500,
        )
        Handoff.objects.filter(pk__in=[m[0] for m in moved]).update(owner_notified_at=None, updated_at=timezone.now())
    ids = [m[0] for m in moved]
    handoff_assigned(ids, why="reassigned after an SLA breach", at=now)
    _notify_owners_later(ids)
    return ids


def handoffs_breach_mail(handoff_ids: Iterable[int]) -> int:
    """Email each breach's audience (see `breach_audiences`) once; returns the emails sent. The handoff keeps who was
    told and who could not be (no e-mail address), as it stands when the email goes."""
    sent = 0
    handoffs = list(
        Handoff.objects.filter(pk__in=list(handoff_ids), breached_at__isnull=False).select_related(
            "account", "owner", "territory", "breached_by"
        )
    )
    audiences = breach_audiences({h.territory_id for h in handoffs})
    for handoff in handoffs:
        audience = audiences[handoff.territory_id]
        if not Handoff.objects.filter(pk=handoff.pk, breach_notified_at__isnull=True).update(
            breach_notified_at=timezone.now(), breach_audience=audience.stored(), updated_at=timezone.now()
        ):
            continue
        recipients = sorted({email for _, email in audience.told})
        if not recipients:
            continue  # nobody to tell: the handoff and the sweep's job say so
        breacher = f" by {person(handoff.breached_by)}" if handoff.breached_by else ""
        send_mail(
            f"SLA breached: {handoff.account.name} ({handoff.get_tier_display()})",
            f"The handoff of {handoff.account.name} passed its SLA without a decision{breacher} (marked at "
            f"{handoff.breached_at:%Y-%m-%d %H:%M} UTC); it is now with {person(handoff.owner)}. Territory: "
            f"{handoff.territory.name if handoff.territory else 'none'}.",
            None,
            recipients,
        )
        sent += 1
    return sent
