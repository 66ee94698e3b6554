"""Writes about users and their roles, and the locked update every app's services make."""

from __future__ import annotations

import re
import unicodedata

from django.contrib.auth.models import Group, User
from django.db import models

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


def row_update(
    obj: models.Model, values: dict, *, check=None, also: dict | None = None
) -> tuple[models.Model, list[str]]:
    """Change a row the caller already checked access to: lock it (until the caller's transaction ends), let
    `check(locked)` refuse on its current state, set the values that differ, and save only those, with `also` (e.g.
    who changed it) and `updated_at` when the model has one. Returns (the locked row, the fields that changed)."""
    model = type(obj)
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if check is not None:
        check(locked)
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    for name, value in {**{name: values[name] for name in changed}, **((also or {}) if changed else {})}.items():
        setattr(locked, name, value)
    if changed:
        stamp = ["updated_at"] if any(f.name == "updated_at" for f in model._meta.fields) else []
        locked.save(update_fields=[*changed, *(also or {}), *stamp])
    return locked, changed
