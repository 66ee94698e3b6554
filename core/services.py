"""Writes about users, roles and territory membership."""

from __future__ import annotations

import re
import unicodedata

from django.contrib.auth.models import Group, User
from django.db import transaction

from territories.models import Membership, Territory

from .roles import ADMIN, MANAGER, REP, ROLES


def username_from_name(name: str) -> str:
    """'Anna Snelling' -> 'anna.snelling': the username an import gives a person known only by name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", ".", ascii_name.lower()).strip(".")
    return slug[:150]


def user_set_role(*, user: User, role: str | None) -> None:
    """Give a user exactly one role (or none)."""
    if role is not None and role not in ROLES:
        raise ValueError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    if role:
        # The migration creates the groups; get_or_create keeps working if one was removed by hand.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    user.__dict__.pop("_revops_roles", None)


def membership_ensure(*, user: User, territory: Territory, role: str) -> Membership:
    """Make `user` an active member of `territory` with `role` (rep or manager); idempotent."""
    membership, created = Membership.objects.get_or_create(user=user, territory=territory, defaults={"role": role})
    changed = [f for f, v in (("role", role), ("is_active", True)) if getattr(membership, f) != v]
    if not created and changed:
        membership.role = role
        membership.is_active = True
        membership.save(update_fields=[*changed, "updated_at"])
    return membership


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    territories: list[Territory] | tuple = (),
) -> User:
    """Create a user with a role; reps and managers become members of the given territories."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user_set_role(user=user, role=role)
    membership_role = Membership.Role.MANAGER if role == MANAGER else Membership.Role.REP
    if role in (REP, MANAGER):
        for territory in territories:
            membership_ensure(user=user, territory=territory, role=membership_role)
    elif territories and role == ADMIN:
        raise ValueError("Admins see every territory; they are not members of one.")
    return user
