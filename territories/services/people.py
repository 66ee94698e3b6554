"""People and where they work: users created with a role and placed in territories."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from core.roles import ADMIN, MANAGER, REP, ROLES
from core.services import user_set_role

from ..models import Membership, Territory
from .memberships import membership_ensure


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
