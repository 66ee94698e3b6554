"""Reads about territories and who belongs to them."""

from __future__ import annotations

from django.db.models import QuerySet

from core.roles import is_admin, is_manager, is_rep

from .models import Membership, Territory


def territory_descendant_ids(*, root_ids: set[int]) -> set[int]:
    """The given territories and every territory below them in the hierarchy."""
    if not root_ids:
        return set()
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Territory.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found: set[int] = set()
    stack = list(root_ids)
    while stack:
        pk = stack.pop()
        if pk in found:
            continue
        found.add(pk)
        stack.extend(children.get(pk, ()))
    return found


def territory_ids_managed_by(*, user) -> set[int]:
    """Territories the user manages, with their descendants."""
    if not user.is_authenticated:
        return set()
    roots = set(
        Membership.objects.filter(user=user, role=Membership.Role.MANAGER, is_active=True).values_list(
            "territory_id", flat=True
        )
    )
    return territory_descendant_ids(root_ids=roots)


def territory_ids_member_of(*, user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(Membership.objects.filter(user=user, is_active=True).values_list("territory_id", flat=True))


def territory_ids_covered_by(user) -> set[int]:
    """The territories whose accounts a user sees (besides those they own): for a manager those they manage and
    those below, for a rep those they are an active member of. The access rule of accounts asks this
    (core/access.py)."""
    ids: set[int] = set()
    if is_manager(user):
        ids |= territory_ids_managed_by(user=user)
    if is_rep(user):
        ids |= territory_ids_member_of(user=user)
    return ids


def territory_list(*, user) -> QuerySet[Territory]:
    """Territories a user may see: all for admins, managed ones (and below) for managers, their own for reps."""
    qs = Territory.objects.all()
    if is_admin(user):
        return qs
    return qs.filter(id__in=territory_ids_covered_by(user))


def membership_list(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(territory__in=territory_list(user=user)).select_related("user", "territory")


def territory_ids_assignable_by(*, user) -> set[int] | None:
    """Territories whose members and owners a user may change: None means all (admins)."""
    if is_admin(user):
        return None
    if is_manager(user):
        return territory_ids_managed_by(user=user)
    return set()


def unassigned_accounts(*, territory: Territory):
    """The territory's queue: its accounts that no one owns, for its managers."""
    return territory.accounts.filter(owner__isnull=True).order_by("name", "id")


def territory_member_choices(*, territory_id: int) -> list[tuple[int, str]]:
    """Active members an account of this territory may be given to, as (user id, name) for a form."""
    members = Membership.objects.filter(territory_id=territory_id, is_active=True).select_related("user")
    return [(m.user_id, m.user.get_full_name() or m.user.username) for m in members.order_by("user__username")]


def can_assign_in(*, user, territory_id: int | None) -> bool:
    """Whether a user may (re)assign owners in a territory."""
    if territory_id is None:
        return False
    allowed = territory_ids_assignable_by(user=user)
    return allowed is None or territory_id in allowed


def territory_member_choices_by_territory(*, territory_ids) -> dict[int, list[tuple[int, str]]]:
    """Active members (active users) of each territory as (user id, name) for an owner select, in one query."""
    choices: dict[int, list[tuple[int, str]]] = {pk: [] for pk in territory_ids if pk is not None}
    if not choices:
        return choices
    members = (
        Membership.objects.filter(territory_id__in=sorted(choices), is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    for m in members:
        choices[m.territory_id].append((m.user_id, m.user.get_full_name() or m.user.username))
    return choices
