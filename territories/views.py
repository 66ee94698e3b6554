from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.criteria import criterion_sentence
from accounts.selectors import account_list
from core.decorators import role_required
from core.roles import ADMIN, MANAGER, is_admin

from .forms import MembershipAddForm, MembershipForm, ReassignForm
from .models import Membership
from .routing import away_on
from .selectors import (
    can_assign_in,
    membership_list,
    owner_option,
    territories_counted,
    territory_list,
    territory_member_choices,
    unassigned_accounts,
)
from .services import (
    PlannedMoves,
    account_reassign,
    assignment_job_start,
    assignment_preview_latest,
    assignment_preview_start,
    departure_reason,
    membership_create,
    membership_departure_plan,
    membership_departure_start,
    membership_update,
)

QUEUE_ROWS = 200
TERRITORIES_PER_PAGE = 25
PREVIEW_ROWS = 500
MOVES_PER_PAGE = 50  # moves per page of an assignment preview


def person(user) -> str:
    return user.get_full_name() or user.username


def rule_lines(criteria) -> list[str]:
    """A territory's rules in words, one line per group (its rules are alternatives; every line must hold)."""
    groups: dict[str, list[str]] = {}
    for item in criteria or []:
        if not isinstance(item, dict):
            continue
        name = str(item.get("group") or "").strip() or str(item.get("attribute") or "").strip()
        sentence = criterion_sentence(item.get("attribute"), item.get("operator"), item.get("value"))
        groups.setdefault(name, []).append(sentence)
    return [" or ".join(sentences) for sentences in groups.values()]


def member_summary(memberships) -> list[dict]:
    """A territory's members as its card on the list says them: one line per role, names A to Z, inactive and away
    members marked (their capacity, load and rotation are on the territory's board)."""
    today = timezone.localdate()
    lines = {}
    for membership in sorted(memberships, key=lambda m: person(m.user).casefold()):
        marks = []
        if not membership.is_active:
            marks.append("inactive")
        elif away_on(membership.away_from, membership.away_until, today):
            marks.append("away")
        name = person(membership.user) + (f" ({', '.join(marks)})" if marks else "")
        lines.setdefault(membership.role, []).append(name)
    roles = dict(Membership.Role.choices)
    return [
        {"role": roles[role], "count": len(lines[role]), "names": lines[role]}
        for role in (Membership.Role.MANAGER, Membership.Role.REP)
        if role in lines
    ]


@role_required(MANAGER, ADMIN)
def territory_index(request):
    """The territories the user may see, TERRITORIES_PER_PAGE a page: each with its accounts (counted for the page's
    territories, shared for a minute) and its members in a line per role."""
    territories = territory_list(user=request.user)
    page = Paginator(territories.select_related("parent"), TERRITORIES_PER_PAGE).get_page(request.GET.get("page"))
    shown, counted_at = territories_counted(page.object_list, shared=True)
    members = {}
    memberships = membership_list(user=request.user).filter(territory__in=[t.pk for t in shown])
    for membership in memberships.only("role", "is_active", "away_from", "away_until", "territory_id",
                                       "user__first_name", "user__last_name", "user__username"):  # fmt: skip
        members.setdefault(membership.territory_id, []).append(membership)
    visible = set(territories.values_list("pk", flat=True))
    for territory in shown:
        territory.member_lines = member_summary(members.get(territory.pk, []))
        territory.visible_parent = territory.parent if territory.parent_id in visible else None
    context = {"territories": shown, "page": page, "counted_at": counted_at}
    return render(request, "territories/territory_list.html", context)


@role_required(MANAGER, ADMIN)
def territory_detail(request, territory_id: int):
    """The territory board: members with their load, the unassigned queue, reassignment."""
    territory = territory_list(user=request.user).filter(pk=territory_id).first()
    if territory is None:
        raise Http404("No such territory.")
    territories_counted([territory])
    # The territory above is named only to those who may see it.
    territory.visible_parent = territory_list(user=request.user).filter(pk=territory.parent_id).first()
    members = membership_list(user=request.user).filter(territory=territory).order_by("role", "user__username")
    owned = dict(
        territory.accounts.filter(owner__isnull=False)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    for membership in members:
        membership.owned = owned.get(membership.user_id, 0)
        membership.load = round(100 * membership.owned / membership.max_accounts) if membership.max_accounts else None
        membership.departure = departure_reason(membership=membership) if membership.owned else None
    queue = unassigned_accounts(territory=territory)
    context = {
        "territory": territory,
        "rule_lines": rule_lines(territory.criteria),
        "named_count": territory.named_accounts.count(),
        "is_admin": is_admin(request.user),
        "members": members,
        "queue": queue[:QUEUE_ROWS],
        "queue_count": queue.count(),
        "can_assign": can_assign_in(user=request.user, territory_id=territory.pk),
        "owner_choices": territory_member_choices(territory_id=territory.pk),
    }
    return render(request, "territories/territory_detail.html", context)


@role_required(MANAGER, ADMIN)
def membership_edit(request, membership_id: int):
    membership = membership_list(user=request.user).filter(pk=membership_id).first()
    if membership is None:
        raise Http404("No such member.")
    if not can_assign_in(user=request.user, territory_id=membership.territory_id):
        raise Http404("No such member.")
    form = MembershipForm(request.POST or None, instance=membership, may_set_role=is_admin(request.user))
    if request.method == "POST" and form.is_valid():
        membership = membership_update(membership=membership, values=form.cleaned_data)
        messages.success(request, f"Saved {person(membership.user)} in {membership.territory.name}.")
        owns = membership.territory.accounts.filter(owner_id=membership.user_id).exists()
        if owns and departure_reason(membership=membership):
            return redirect("membership-departure", membership_id=membership.pk)  # where their accounts go
        return redirect("territory-detail", territory_id=membership.territory_id)
    return render(request, "territories/membership_form.html", {"form": form, "membership": membership})


@role_required(MANAGER, ADMIN)
def membership_new(request, territory_id: int):
    """A person joins a territory: a manager adds reps to their territories; an admin also appoints managers."""
    territory = territory_list(user=request.user).filter(pk=territory_id).first()
    if territory is None or not can_assign_in(user=request.user, territory_id=territory.pk):
        raise Http404("No such territory.")
    form = MembershipAddForm(
        request.POST if request.method == "POST" else None, territory=territory, may_set_role=is_admin(request.user)
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        membership_create(
            user=data["person"],
            territory=territory,
            role=data["role"],
            max_accounts=data["max_accounts"],
            max_tier1_accounts=data["max_tier1_accounts"],
            weight=data["weight"],
        )
        messages.success(request, f"{person(data['person'])} joined {territory.name}.")
        return redirect("territory-detail", territory_id=territory.pk)
    return render(request, "territories/membership_new.html", {"form": form, "territory": territory})


def _reassigned_text(changed: int, owner) -> str:
    if not changed:
        return "Nothing changed: the accounts already had that owner."
    what = "1 account" if changed == 1 else f"{changed:,} accounts"
    return f"Gave {what} to {person(owner)}." if owner else f"{what.capitalize()} now without an owner."


@require_POST
@role_required(MANAGER, ADMIN)
def reassign(request):
    """Single or bulk manual reassignment, from the board or an account page."""
    ids = [int(v) for v in request.POST.getlist("account_ids") if v.isdigit()]
    visible = list(account_list(user=request.user).filter(pk__in=ids).values_list("pk", "name", "territory_id"))
    territories = {t for _, _, t in visible}
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = ""
    if len(territories) != 1 or None in territories:
        messages.error(request, "Select accounts of one territory.")
        return redirect(back or "territory-list")
    territory_id = territories.pop()
    form = ReassignForm(
        request.POST,
        account_choices=[(pk, name) for pk, name, _ in visible],
        owner_choices=territory_member_choices(territory_id=territory_id),
    )
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    else:
        owner = User.objects.filter(pk=form.cleaned_data["owner"]).first() if form.cleaned_data["owner"] else None
        option = owner_option(territory_id=territory_id, user_id=owner.pk if owner else None)
        if option is not None and option.notes and not form.cleaned_data["confirmed"]:
            # Away or at capacity: the manager reads it and confirms, or goes back and chooses someone else.
            chosen = set(form.cleaned_data["account_ids"])
            context = {
                "option": option,
                "accounts": [(pk, name) for pk, name, _ in visible if pk in chosen],
                "back": back or reverse("territory-detail", args=[territory_id]),
                "next": back,
            }
            return render(request, "territories/reassign_confirm.html", context)
        try:
            changed = account_reassign(user=request.user, account_ids=form.cleaned_data["account_ids"], owner=owner)
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, exc.messages[0] if hasattr(exc, "messages") else str(exc))
        else:
            messages.success(request, _reassigned_text(changed, owner))
    return redirect(back) if back else redirect("territory-detail", territory_id=territory_id)


def preview_state(preview) -> str:
    """none, preparing, failed or ready: a preview whose job failed (or was given up by the job healer) failed."""
    if preview is None:
        return "none"
    if preview.status == preview.Status.PREPARING and preview.job is not None and preview.job.status == "failed":
        return "failed"
    return preview.status


def planned_move_rows(*, user, moves) -> list[dict]:
    """A page of planned moves in words: people by full name, territories by name."""
    user_ids = {m.from_owner_id for m in moves} | {m.to_owner_id for m in moves}
    names = {u.pk: person(u) for u in User.objects.filter(pk__in=user_ids).only("username", "first_name", "last_name")}
    territory_ids = {m.from_territory_id for m in moves} | {m.to_territory_id for m in moves}
    territory_names = dict(territory_list(user=user).filter(pk__in=territory_ids - {None}).values_list("pk", "name"))
    return [
        {
            "position": m.position,
            "account_id": m.account_id,
            "account_name": m.account_name,
            "from_owner": names.get(m.from_owner_id, "—"),
            "to_owner": names.get(m.to_owner_id, "unassigned"),
            "from_territory": territory_names.get(m.from_territory_id, "—"),
            "to_territory": territory_names.get(m.to_territory_id, "—"),
            "rule": m.rule,
        }
        for m in moves
    ]


@role_required(MANAGER, ADMIN)
def assignment_preview(request):
    """GET: the user's latest assignment preview (what a run in their territories would do): the totals, the accounts
    per territory and per rep before and after, and the moves a page at a time. POST: prepare a new one, as a job (a
    run over many accounts takes a while; the pages of a prepared one read at once)."""
    if request.method == "POST":
        assignment_preview_start(user=request.user)
        messages.info(request, "Preparing the preview; this page shows it when it is ready.")
        return redirect("assignment-preview")
    preview = assignment_preview_latest(user=request.user)
    state = preview_state(preview)
    context = {"preview": preview, "state": state, "moves": [], "rep_counts": [], "territory_counts": []}
    if state == "ready":
        page = Paginator(PlannedMoves(preview), MOVES_PER_PAGE).get_page(request.GET.get("page"))
        context.update(
            page=page,
            moves=planned_move_rows(user=request.user, moves=page.object_list),
            rep_counts=preview.rep_counts,
            territory_counts=preview.territory_counts,
        )
    return render(request, "territories/assignment_preview.html", context)


@require_POST
@role_required(MANAGER, ADMIN)
def assignment_apply(request):
    job = assignment_job_start(user=request.user)
    messages.info(request, "Assignment started; this page follows its progress.")
    return redirect("job-detail", job_id=job.pk)


@role_required(MANAGER, ADMIN)
def membership_departure(request, membership_id: int):
    """A departing rep's accounts in the territory: where each would go and which open handoffs follow (GET); the
    manager confirms and the handover runs as a job (POST)."""
    membership = membership_list(user=request.user).filter(pk=membership_id).select_related("user", "territory").first()
    if membership is None or not can_assign_in(user=request.user, territory_id=membership.territory_id):
        raise Http404("No such member.")
    if request.method == "POST":
        try:
            job = membership_departure_start(user=request.user, membership=membership)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
            return redirect("membership-departure", membership_id=membership.pk)
        messages.info(request, f"Handing over {person(membership.user)}'s accounts; this page follows its progress.")
        return redirect("job-detail", job_id=job.pk)
    try:
        plan = membership_departure_plan(user=request.user, membership=membership)
    except ValidationError as exc:
        plan, problem = None, exc.messages[0]
    else:
        problem = ""
    context = {"membership": membership, "plan": plan, "problem": problem, "preview_rows": PREVIEW_ROWS}
    if plan is not None:
        owners = {m.to_owner_id for m in plan.moves}
        names = {u.pk: person(u) for u in User.objects.filter(pk__in=owners - {None})}
        to_owner = {m.account_id: m.to_owner_id for m in plan.moves}
        context["moves"] = [
            {"account_id": m.account_id, "account_name": m.account_name, "to_owner": names.get(m.to_owner_id)}
            for m in plan.moves[:PREVIEW_ROWS]
        ]
        context["counts"] = sorted(
            ((names.get(uid, "No owner (no member with room)"), n) for uid, n in plan.counts.items()),
            key=lambda pair: pair[0].lower(),
        )
        context["handoffs"] = [
            {**h, "to_owner": names.get(to_owner.get(h["account_id"]))} for h in plan.handoffs[:PREVIEW_ROWS]
        ]
    return render(request, "territories/membership_departure.html", context)
