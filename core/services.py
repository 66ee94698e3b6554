"""Writes about users and their roles."""

from __future__ import annotations

import re
import unicodedata

from django.contrib.auth.models import Group, User

from .roles import ROLES


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
