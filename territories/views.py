from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.selectors import account_list
from core.decorators import role_required
from core.roles import ADMIN, MANAGER

from .forms import MembershipForm, ReassignForm
from .selectors import (
    can_assign_in,
    membership_list,
    territories_counted,
    territory_list,
    territory_member_choices,
    unassigned_accounts,
)
from .services import account_reassign, assignment_job_start, assignment_plan, membership_update

QUEUE_ROWS = 200
PREVIEW_ROWS = 500


@role_required(MANAGER, ADMIN)
def territory_index(request):
    territories, counted_at = territories_counted(
        territory_list(user=request.user).select_related("parent"), shared=True
    )
    members = {}
    for membership in membership_list(user=request.user).order_by("role", "user__username"):
        members.setdefault(membership.territory_id, []).append(membership)
    visible = {t.pk for t in territories}
    for territory in territories:
        territory.member_list = members.get(territory.pk, [])
        territory.visible_parent = territory.parent if territory.parent_id in visible else None
    return render(request, "territories/territory_list.html", {"territories": territories, "counted_at": counted_at})


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
    queue = unassigned_accounts(territory=territory)
    context = {
        "territory": territory,
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
    form = MembershipForm(request.POST or None, instance=membership)
    if request.method == "POST" and form.is_valid():
        membership_update(membership=membership, values=form.cleaned_data)
        messages.success(request, f"Saved {membership.user.username} in {membership.territory.name}.")
        return redirect("territory-detail", territory_id=membership.territory_id)
    return render(request, "territories/membership_form.html", {"form": form, "membership": membership})


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
        try:
            changed = account_reassign(user=request.user, account_ids=form.cleaned_data["account_ids"], owner=owner)
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, exc.messages[0] if hasattr(exc, "messages") else str(exc))
        else:
            messages.success(request, f"{changed} account(s) reassigned.")
    return redirect(back) if back else redirect("territory-detail", territory_id=territory_id)


@role_required(MANAGER, ADMIN)
def assignment_preview(request):
    """Every move an assignment run would make in the user's territories, before anything changes."""
    plan = assignment_plan(user=request.user)
    territory_names = dict(territory_list(user=request.user).values_list("pk", "name"))
    user_ids = {m.from_owner_id for m in plan.moves} | {m.to_owner_id for m in plan.moves}
    usernames = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "username"))
    moves = [
        {
            "account_id": m.account_id,
            "account_name": m.account_name,
            "from_owner": usernames.get(m.from_owner_id, "—"),
            "to_owner": usernames.get(m.to_owner_id, "unassigned"),
            "from_territory": territory_names.get(m.from_territory_id, "—"),
            "to_territory": territory_names.get(m.to_territory_id, "—"),
            "rule": m.rule,
        }
        for m in plan.moves[:PREVIEW_ROWS]
    ]
    context = {"plan": plan, "moves": moves, "rep_counts": plan.rep_counts(), "preview_rows": PREVIEW_ROWS}
    return render(request, "territories/assignment_preview.html", context)


@require_POST
@role_required(MANAGER, ADMIN)
def assignment_apply(request):
    job = assignment_job_start(user=request.user)
    messages.info(request, "Assignment started; this page follows its progress.")
    return redirect("job-detail", job_id=job.pk)
