"""Reads about handoffs: who may see which, the rep's queue, SLA compliance and rejection feedback."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.criteria import attribute_label, criterion_sentence, with_group
from core.roles import is_admin, is_manager, is_rep
from core.stats import wilson_interval
from core.tiers import LABELS, ORDER
from segmentation.models import ScoringModel
from territories.models import Membership
from territories.selectors import territory_ids_managed_by

from .models import Handoff, SlaPolicy
from .sla import ALWAYS, Clock, Countdown, countdown
from .sla_calendars import policy_clock


def handoff_list(*, user) -> QuerySet:
    """Handoffs a user may see: a rep their own, a manager those of the territories they manage (and below), an
    admin all; nobody else any."""

    if not user.is_authenticated:
        return Handoff.objects.none()
    if is_admin(user):
        return Handoff.objects.all()
    q = Q(pk__in=[])
    if is_rep(user):
        q |= Q(owner=user)
    if is_manager(user):
        q |= Q(territory_id__in=territory_ids_managed_by(user=user))
    return Handoff.objects.filter(q)


def access_handoff(*, user, handoff_id: int):
    """The handoff if the user may see it (see `handoff_list`); 404 otherwise, so its existence is not revealed."""

    try:
        return handoff_list(user=user).select_related("account").get(pk=handoff_id)
    except (Handoff.DoesNotExist, ValueError, TypeError):
        raise Http404("No such handoff.") from None


def handoff_queue(*, user) -> QuerySet:
    """The user's own pending handoffs, soonest due first (those without a deadline last), with what the queue shows."""

    return (
        handoff_list(user=user)
        .filter(owner_id=user.pk, status=Handoff.Status.PENDING)
        .select_related("account__score__model__icp", "mqa", "territory")
        .order_by(F("accept_due_at").asc(nulls_last=True), "pk")
    )


def sla_clocks(*, now=None) -> dict[str, Clock]:
    """Each tier's SLA clock, as its policy says now, with its public holidays and closed dates (one query)."""

    now = now or timezone.now()
    return {policy.tier: policy_clock(policy, around=now) for policy in SlaPolicy.objects.all()}


def handoff_countdown(handoff: Handoff, clocks: dict[str, Clock], now=None) -> Countdown | None:
    """A pending handoff's countdown on its tier's clock (plain hours, UTC, for a tier without a policy); None for a
    decided handoff or one without a deadline."""

    if handoff.status != Handoff.Status.PENDING or handoff.accept_due_at is None:
        return None
    clock = clocks.get(handoff.tier) or Clock(hours=1, calendar=ALWAYS)
    return countdown(clock, handoff.accept_due_at, now or timezone.now())


@dataclass(frozen=True)
class SlaRow:
    """SLA compliance of a group of handoffs.

    `measured` (the sample) counts the handoffs whose SLA outcome is settled: those with a deadline that were decided,
    were marked breached, or are past due. `on_time` are those decided (accepted or rejected) by their deadline and
    never breached (a handoff breached, then reassigned and decided by its new owner in time, was still breached);
    compliance = on_time / measured. Pending handoffs still inside their window and handoffs without a deadline are
    not measured. By rep, a handoff counts for the rep answerable for it: the owner when it was breached (a breach
    counts against who held it then, whoever holds it since), else its owner.
    """

    key: str
    label: str
    handoffs: int
    decided: int
    on_time: int
    breached: int
    measured: int

    @property
    def compliance(self) -> float | None:
        return 100 * self.on_time / self.measured if self.measured else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.on_time, self.measured)


@dataclass(frozen=True)
class SlaCompliance:
    by_owner: list[SlaRow]
    by_tier: list[SlaRow]
    total: SlaRow


SLA_COUNTS = ("handoffs", "decided", "on_time", "breached", "measured")


def _sla_aggregates(now) -> dict:

    decided = Q(status__in=[Handoff.Status.ACCEPTED, Handoff.Status.REJECTED], decided_at__isnull=False)
    has_deadline = Q(accept_due_at__isnull=False)
    return {
        "handoffs": Count("pk"),
        "decided": Count("pk", filter=decided),
        "on_time": Count(
            "pk",
            filter=decided & has_deadline & Q(decided_at__lte=F("accept_due_at"), breached_at__isnull=True),
        ),
        "breached": Count("pk", filter=Q(breached_at__isnull=False)),
        "measured": Count(
            "pk", filter=has_deadline & (decided | Q(breached_at__isnull=False) | Q(accept_due_at__lt=now))
        ),
    }


def answerable_rep():
    """The rep a handoff's SLA outcome counts for: who breached it, else its owner (None: unassigned)."""

    return Coalesce("breached_by_id", "owner_id")


def answerable_q(user_id: int) -> Q:
    """The handoffs whose SLA outcome counts for this rep (see `answerable_rep`)."""

    return Q(breached_by_id=user_id) | Q(breached_by__isnull=True, owner_id=user_id)


def _rep_rows(base: QuerySet, aggregates: dict) -> list[SlaRow]:
    rows = list(base.annotate(rep_id=answerable_rep()).values("rep_id").annotate(**aggregates))
    people = {
        u.pk: u.get_full_name() or u.username
        for u in User.objects.filter(pk__in=[r["rep_id"] for r in rows if r["rep_id"]]).only(
            "username", "first_name", "last_name"
        )
    }
    by_rep = []
    for row in rows:
        if row["rep_id"] is None:
            key, label = "", "Unassigned"
        else:
            key, label = str(row["rep_id"]), people.get(row["rep_id"], str(row["rep_id"]))
        by_rep.append(SlaRow(key=key, label=label, **{name: row[name] for name in SLA_COUNTS}))
    by_rep.sort(key=lambda r: (r.key == "", r.label.lower(), r.key))
    return by_rep


def sla_compliance(*, handoffs: QuerySet, now=None) -> SlaCompliance:
    """SLA compliance of `handoffs` (already scoped to the user) by rep (who answers for each handoff, see
    `SlaRow`) and by tier: two aggregate queries and one of the reps' names."""

    now = now or timezone.now()
    aggregates = _sla_aggregates(now)
    base = handoffs.order_by()
    by_owner = _rep_rows(base, aggregates)
    by_tier = [
        SlaRow(key=row["tier"], label=LABELS.get(row["tier"], row["tier"]), **{n: row[n] for n in SLA_COUNTS})
        for row in base.values("tier").annotate(**aggregates)
    ]
    by_tier.sort(key=lambda r: (ORDER.get(r.key, len(ORDER)), r.key))
    total = SlaRow(key="", label="All", **{name: sum(getattr(r, name) for r in by_tier) for name in SLA_COUNTS})
    return SlaCompliance(by_owner=by_owner, by_tier=by_tier, total=total)


@dataclass(frozen=True)
class MemberSla:
    """One rep's SLA compliance in a territory: `member` False for someone who answers for some of its handoffs
    without being one of its active reps now (a former member)."""

    row: SlaRow
    member: bool


def territory_member_sla(*, user, territory_id: int, now=None) -> tuple[list[MemberSla], SlaRow]:
    """SLA compliance of a territory's handoffs (those the user may see) for each of its active reps (a row of
    zeros for a rep with none), then anyone else who answers for some, and the territory's total. Three queries."""

    now = now or timezone.now()
    aggregates = _sla_aggregates(now)
    handoffs = handoff_list(user=user).filter(territory_id=territory_id).order_by()
    rows = {row.key: row for row in _rep_rows(handoffs, aggregates)}
    members = Membership.objects.filter(
        territory_id=territory_id, role=Membership.Role.REP, is_active=True, user__is_active=True
    ).select_related("user")
    zero = dict.fromkeys(SLA_COUNTS, 0)
    listed = sorted(
        (
            MemberSla(
                row=rows.pop(str(m.user_id), None)
                or SlaRow(key=str(m.user_id), label=m.user.get_full_name() or m.user.username, **zero),
                member=True,
            )
            for m in members
        ),
        key=lambda item: (item.row.label.lower(), item.row.key),
    )
    listed += [MemberSla(row=row, member=False) for row in rows.values()]  # already by name, unassigned last
    total = SlaRow(
        key="", label="All", **{name: sum(getattr(item.row, name) for item in listed) for name in SLA_COUNTS}
    )
    return listed, total


@dataclass
class FeedbackRow:
    """Rejections of one reason or one matched criterion, by tier."""

    label: str
    by_tier: dict[str, int]
    rejected: int = 0
    decided: int = 0  # criterion rows: decided handoffs whose score matched it (the rejection rate's sample)

    @property
    def rejection_rate(self) -> float | None:
        return 100 * self.rejected / self.decided if self.decided else None


@dataclass(frozen=True)
class RejectionFeedback:
    tiers: list[str]
    by_reason: list[FeedbackRow]
    by_criterion: list[FeedbackRow]
    rejected: int
    without_criterion: int  # rejections whose account has no score or whose score matched no criterion


def _criterion_labels(model_ids: set[int]) -> dict[int, list[str]]:
    """Each model version's fit criteria in words ("Group: attribute is value"), by their index."""

    labels: dict[int, list[str]] = {}
    for model in ScoringModel.objects.filter(pk__in=sorted(model_ids)).select_related("icp"):
        criteria, _ = model.current_criteria()
        labels[model.pk] = [
            with_group(
                c.get("group") or attribute_label(c.get("attribute")),
                criterion_sentence(c.get("attribute", ""), c.get("operator", ""), c.get("value")),
            )
            for c in criteria
        ]
    return labels


def rejection_feedback(*, handoffs: QuerySet) -> RejectionFeedback:
    """Rejections of `handoffs` (already scoped) by reason and tier, and by matched fit criterion and tier.

    A rejection counts for every criterion its account's current score matched (`AccountScore.matched`, indexes into
    the criteria of the score's own model version); criteria read the same in words count together across versions.
    Criterion rows also count the decided handoffs (accepted or rejected) that matched the criterion, so the share
    rejected reads as the criterion's false-positive rate. Three queries.
    """

    rejected_status = Handoff.Status.REJECTED
    reason_labels = dict(Handoff.Reason.choices)
    base = handoffs.order_by()
    tiers: set[str] = set()
    reasons: dict[str, FeedbackRow] = {}
    for reason, tier, n in (
        base.filter(status=rejected_status).values_list("reason", "tier").annotate(n=Count("pk")).order_by()
    ):
        label = reason_labels.get(reason, reason or "No reason")
        row = reasons.setdefault(reason, FeedbackRow(label=label, by_tier={}))
        row.by_tier[tier] = row.by_tier.get(tier, 0) + n
        row.rejected += n
        tiers.add(tier)

    decided = base.filter(status__in=[Handoff.Status.ACCEPTED, rejected_status]).values_list(
        "status", "tier", "account__score__model_id", "account__score__matched"
    )
    rows = list(decided)
    labels = _criterion_labels({model_id for _, _, model_id, _ in rows if model_id})
    criteria: dict[str, FeedbackRow] = {}
    without = 0
    for status, tier, model_id, matched in rows:
        names = labels.get(model_id, [])
        words = sorted({names[i] for i in matched or [] if 0 <= i < len(names)})
        if status == rejected_status and not words:
            without += 1
        for label in words:
            row = criteria.setdefault(label, FeedbackRow(label=label, by_tier={}))
            row.decided += 1
            if status == rejected_status:
                row.by_tier[tier] = row.by_tier.get(tier, 0) + 1
                row.rejected += 1
                tiers.add(tier)
    by_reason = sorted(reasons.values(), key=lambda r: (-r.rejected, r.label))
    by_criterion = sorted((r for r in criteria.values() if r.rejected), key=lambda r: (-r.rejected, r.label))
    return RejectionFeedback(
        tiers=sorted(tiers, key=lambda t: (ORDER.get(t, len(ORDER)), t)),
        by_reason=by_reason,
        by_criterion=by_criterion,
        rejected=sum(r.rejected for r in by_reason),
        without_criterion=without,
    )
