"""Handoff pages: the rep's queue (accept / reject), the managers' handoff list with SLA compliance and reassignment,
and the admins' rejection feedback."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from core.csvexport import streamed_csv, table_csv
from core.decorators import role_required
from core.roles import ADMIN, MANAGER, REP
from core.tiers import LABELS as TIER_LABELS
from segmentation.explain import explain, signals_by_account
from segmentation.plays import play_list
from territories.selectors import owner_option, territory_member_choices_by_territory

from .filters import UNASSIGNED, HandoffFilter
from .models import Handoff
from .selectors import (
    access_handoff,
    answerable_q,
    handoff_countdown,
    handoff_list,
    handoff_queue,
    rejection_feedback,
    sla_clocks,
    sla_compliance,
)
from .services import AlreadyDecided, can_reassign, handoff_accept, handoff_reassign, handoff_reject
from .sla import describe
from .tables import REASON_LABELS, HandoffTable, person

QUEUE_ROWS = 100
PAGE_SIZE = 50
EXPLANATION_SENTENCES = 2  # fit and signal: why the account qualified, at a glance
HANDOFF_COLUMNS = [
    ("id", "id"),
    ("account_id", "account_id"),
    ("account", "account__name"),
    ("territory", "territory__name"),
    ("owner", "owner__username"),
    ("tier", "tier"),
    ("status", "status"),
    ("assigned_at", "assigned_at"),
    ("accept_due_at", "accept_due_at"),
    ("decided_at", "decided_at"),
    ("decided_by", "decided_by__username"),
    ("reason", "reason"),
    ("note", "note"),
    ("breached_at", "breached_at"),
]

reps_only = role_required(REP)
managers_and_admins = role_required(MANAGER, ADMIN)
admins_only = role_required(ADMIN)


def _wants_json(request) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


# --- The rep's queue ----------------------------------------------------------------------------------------------


def _queue_rows(request, *, errors: dict | None = None, posted: dict | None = None) -> tuple[list[dict], int]:
    """The user's pending handoffs as the queue shows them, in a fixed number of queries."""
    now = timezone.now()
    queue = handoff_queue(user=request.user)
    handoffs = list(queue[:QUEUE_ROWS])
    total = len(handoffs) if len(handoffs) < QUEUE_ROWS else queue.count()
    plays = {play.tier: play for play in play_list()}
    clocks = sla_clocks()
    scores = [h.account.score for h in handoffs if hasattr(h.account, "score")]
    signals = signals_by_account(scores)
    rows = []
    for handoff in handoffs:
        score = getattr(handoff.account, "score", None)
        countdown = handoff_countdown(handoff, clocks, now)
        rows.append(
            {
                "handoff": handoff,
                "tier_label": TIER_LABELS.get(handoff.tier, handoff.tier),
                "score": score,
                "sentences": explain(score, signals=signals[score.account_id])["sentences"][:EXPLANATION_SENTENCES]
                if score
                else [],
                "play": plays.get(handoff.tier),
                "countdown": countdown,
                "overdue": countdown is not None and countdown.overdue,
                "errors": (errors or {}).get(handoff.pk, {}),
                "posted": (posted or {}).get(handoff.pk, {}),
            }
        )
    return rows, total


def _render_queue(request, *, status: int = 200, errors: dict | None = None, posted: dict | None = None):
    rows, total = _queue_rows(request, errors=errors, posted=posted)
    context = {"rows": rows, "total": total, "reasons": Handoff.Reason.choices, "queue_rows": QUEUE_ROWS}
    return render(request, "handoffs/queue.html", context, status=status)


@reps_only
def queue(request):
    """The rep's pending handoffs, soonest due first, each with its SLA countdown and accept / reject."""
    return _render_queue(request)


def _answer(request, *, status: int, level: int, text: str, **data):
    """A decision's outcome: JSON for the queue's script, otherwise a message and back to the queue."""
    if _wants_json(request):
        return JsonResponse({"message": text, **data}, status=status)
    messages.add_message(request, level, text)
    return redirect("handoff-queue")


def _decide(request, handoff: Handoff, decide, *, posted: dict):
    name = handoff.account.name
    try:
        decided = decide()
    except AlreadyDecided:
        handoff.refresh_from_db(fields=["status"])
        text = f"{name} was already decided ({handoff.get_status_display().lower()}): nothing changed."
        return _answer(request, status=409, level=messages.WARNING, text=text, outcome="already_decided")
    except PermissionDenied as exc:
        if _wants_json(request):
            return JsonResponse({"message": str(exc)}, status=403)
        return render(request, "core/forbidden.html", status=403)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"form": exc.messages}
        text = f"{name} was not rejected: " + " ".join(exc.messages)
        if _wants_json(request):
            return JsonResponse({"message": text, "errors": errors}, status=400)
        messages.error(request, text)
        return _render_queue(request, status=400, errors={handoff.pk: errors}, posted={handoff.pk: posted})
    if decided.status == Handoff.Status.ACCEPTED:
        text = f"Accepted {name}: it is now a Sales Accepted Account."
    else:
        text = (
            f"Rejected {name} ({REASON_LABELS.get(decided.reason, decided.reason)}): it goes back to marketing, in "
            "Recycle, and cannot qualify again before the rejection cooldown ends."
        )
    return _answer(request, status=200, level=messages.SUCCESS, text=text, outcome=decided.status)


@require_POST
@reps_only
def accept(request, handoff_id: int):
    handoff = access_handoff(user=request.user, handoff_id=handoff_id)
    return _decide(request, handoff, lambda: handoff_accept(user=request.user, handoff_id=handoff.pk), posted={})


@require_POST
@reps_only
def reject(request, handoff_id: int):
    # Scope first: a handoff the user may not see is a 404 whatever the form holds.
    handoff = access_handoff(user=request.user, handoff_id=handoff_id)
    reason = request.POST.get("reason", "").strip()
    note = request.POST.get("note", "")
    return _decide(
        request,
        handoff,
        lambda: handoff_reject(user=request.user, handoff_id=handoff.pk, reason=reason, note=note),
        posted={"reason": reason, "note": note},
    )


# --- The managers' handoff list -----------------------------------------------------------------------------------


def _handoff_filter(request) -> HandoffFilter:
    queryset = handoff_list(user=request.user).select_related("account", "territory", "owner", "breached_by")
    return HandoffFilter(request.GET or None, queryset=queryset, user=request.user)


def _sla_population(handoff_filter: HandoffFilter):
    """The handoffs the SLA tables measure: the list's filters but status and breach; the owner filter picks the
    handoffs its rep answers for (a breach counts against who held the handoff then, whoever holds it now)."""
    handoffs = handoff_filter.qs_except("status", "breached", "owner")
    owner = getattr(handoff_filter.form, "cleaned_data", {}).get("owner")
    if owner == UNASSIGNED:
        return handoffs.filter(owner__isnull=True, breached_by__isnull=True)
    if owner:
        return handoffs.filter(answerable_q(int(owner)))
    return handoffs


def _rows(handoff_filter: HandoffFilter):
    # A filter that does not validate (e.g. a territory outside the scope) shows nothing, never "everything".
    if handoff_filter.is_bound and not handoff_filter.is_valid():
        return handoff_filter.queryset.none()
    return handoff_filter.qs


@managers_and_admins
def handoff_index(request):
    """Handoffs of the user's territories with filters, SLA compliance by rep and by tier, and reassignment."""
    handoff_filter = _handoff_filter(request)
    table = HandoffTable(_rows(handoff_filter))
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    # Owner choices for the reassign forms of this page's rows only, in one query.
    shown = [row.record for row in table.paginated_rows]
    pending_territories = {h.territory_id for h in shown if h.status == Handoff.Status.PENDING}
    table.owner_choices = territory_member_choices_by_territory(territory_ids=pending_territories)
    table.clocks = sla_clocks()
    context = {
        "filter": handoff_filter,
        "table": table,
        "compliance": sla_compliance(handoffs=_sla_population(handoff_filter)),
        "export_query": request.GET.urlencode(),
    }
    return render(request, "handoffs/list.html", context)


@managers_and_admins
def handoff_export(request):
    """The filtered, scoped handoff list as CSV in the page's order, streamed."""
    table = HandoffTable(_rows(_handoff_filter(request)))
    return table_csv(request, table, columns=HANDOFF_COLUMNS, filename="handoffs.csv")


@managers_and_admins
def sla_export(request):
    """The SLA compliance tables of the handoff list (same filters) as CSV."""
    compliance = sla_compliance(handoffs=_sla_population(_handoff_filter(request)))

    def rows():
        for group, items in (("owner", compliance.by_owner), ("tier", compliance.by_tier), ("all", [compliance.total])):
            for r in items:
                low, high = r.interval or (None, None)
                rate = None if r.compliance is None else round(r.compliance, 1)
                yield [group, r.label, r.handoffs, r.decided, r.on_time, r.breached, r.measured, rate,
                       None if low is None else round(low, 1), None if high is None else round(high, 1)]  # fmt: skip

    header = ["by", "group", "handoffs", "decided", "decided_on_time", "breached", "measured", "compliance_pct",
              "ci95_low", "ci95_high"]  # fmt: skip
    return streamed_csv(filename="sla-compliance.csv", header=header, rows=rows())


def _back(request) -> str:
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return back
    return reverse("handoff-list")


@require_POST
@managers_and_admins
def reassign(request, handoff_id: int):
    """Give a pending handoff to another active member of its territory; back to the list with a message."""
    handoff = access_handoff(user=request.user, handoff_id=handoff_id)
    raw = request.POST.get("owner", "")
    owner_id = int(raw) if raw.isdigit() and len(raw) < 10 else 0
    option = owner_option(territory_id=handoff.account.territory_id, user_id=owner_id)
    if option is not None and option.notes and request.POST.get("confirmed") != "on":
        # Away or at capacity: the manager reads it and confirms, or goes back and chooses someone else.
        context = {"handoff": handoff, "option": option, "accounts": [(handoff.account_id, handoff.account.name)]}
        return render(request, "handoffs/reassign_confirm.html", {**context, "next": _back(request)})
    try:
        moved = handoff_reassign(user=request.user, handoff_id=handoff.pk, owner_id=owner_id)
    except AlreadyDecided:
        handoff.refresh_from_db(fields=["status"])
        messages.warning(
            request,
            f"{handoff.account.name} was already decided ({handoff.get_status_display().lower()}): nothing changed.",
        )
    except PermissionDenied:
        return render(request, "core/forbidden.html", status=403)
    except ValidationError as exc:
        messages.error(request, f"{handoff.account.name} was not reassigned: " + " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{handoff.account.name} now goes to {person(moved.owner)}, and so does the account; their clock starts "
            "now.",
        )
    return redirect(_back(request))


@role_required()
def handoff_detail(request, handoff_id: int):
    """One handoff: its account, owner and SLA clock, the decision, the breach (who breached it, who was told and
    who could not be), and reassignment for those who may."""
    handoff = access_handoff(user=request.user, handoff_id=handoff_id)
    handoff = (
        Handoff.objects.select_related("account", "territory", "owner", "decided_by", "breached_by", "mqa")
        .filter(pk=handoff.pk)
        .get()
    )
    clocks = sla_clocks()
    may_reassign = handoff.status == Handoff.Status.PENDING and can_reassign(user=request.user, handoff=handoff)
    owner_choices = (
        territory_member_choices_by_territory(territory_ids=[handoff.territory_id]).get(handoff.territory_id, [])
        if may_reassign
        else []
    )
    audience = handoff.breach_audience or {}
    context = {
        "handoff": handoff,
        "tier_label": TIER_LABELS.get(handoff.tier, handoff.tier),
        "countdown": handoff_countdown(handoff, clocks),
        "clock": describe(clocks[handoff.tier]) if handoff.tier in clocks else "",
        "reason_label": REASON_LABELS.get(handoff.reason, handoff.reason),
        "may_reassign": may_reassign,
        "owner_choices": owner_choices,
        "told": audience.get("told", []),
        "not_told": audience.get("not_told", []),
        "told_to": audience.get("to", ""),
        "on_time": handoff.decided_at is not None
        and handoff.accept_due_at is not None
        and handoff.breached_at is None
        and handoff.decided_at <= handoff.accept_due_at,
    }
    return render(request, "handoffs/detail.html", context)


# --- Rejection feedback -------------------------------------------------------------------------------------------


@admins_only
def feedback(request):
    """Why handoffs were rejected, by reason and by the fit criteria the rejected accounts matched, per tier."""
    report = rejection_feedback(handoffs=handoff_list(user=request.user))
    tiers = [(tier, TIER_LABELS.get(tier, tier)) for tier in report.tiers]

    def table(rows):
        return [
            {"row": row, "cells": [row.by_tier.get(tier, 0) for tier, _ in tiers], "rate": row.rejection_rate}
            for row in rows
        ]

    context = {
        "report": report,
        "tiers": tiers,
        "by_reason": table(report.by_reason),
        "by_criterion": table(report.by_criterion),
    }
    return render(request, "handoffs/feedback.html", context)


@admins_only
def feedback_export(request):
    """Rejections by reason and by criterion, one row per tier, as CSV."""
    report = rejection_feedback(handoffs=handoff_list(user=request.user))

    def rows():
        for breakdown, items in (("reason", report.by_reason), ("criterion", report.by_criterion)):
            for row in items:
                for tier in report.tiers:
                    if row.by_tier.get(tier):
                        yield [breakdown, row.label, tier, row.by_tier[tier]]

    return streamed_csv(filename="rejection-feedback.csv", header=["by", "label", "tier", "rejected"], rows=rows())
