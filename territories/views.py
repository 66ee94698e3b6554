from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render

from core.decorators import role_required
from core.roles import ADMIN, MANAGER

from .selectors import membership_list, territory_list


def _territories(user):
    return (
        territory_list(user=user)
        .select_related("parent")
        .annotate(
            account_total=Count("accounts", distinct=True),
            unassigned=Count("accounts", filter=Q(accounts__owner__isnull=True), distinct=True),
        )
    )


@role_required(MANAGER, ADMIN)
def territory_index(request):
    territories = list(_territories(request.user))
    members = {}
    for membership in membership_list(user=request.user).order_by("role", "user__username"):
        members.setdefault(membership.territory_id, []).append(membership)
    for territory in territories:
        territory.member_list = members.get(territory.pk, [])
    return render(request, "territories/territory_list.html", {"territories": territories})


@role_required(MANAGER, ADMIN)
def territory_detail(request, territory_id: int):
    territory = _territories(request.user).filter(pk=territory_id).first()
    if territory is None:
        raise Http404("No such territory.")
    members = membership_list(user=request.user).filter(territory=territory).order_by("role", "user__username")
    owned = dict(
        territory.accounts.filter(owner__isnull=False)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    for membership in members:
        membership.owned = owned.get(membership.user_id, 0)
    return render(request, "territories/territory_detail.html", {"territory": territory, "members": members})
