"""The users kind of import: people and the territories they work in (accounts/imports runs it)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from accounts.imports import fields as f
from accounts.imports.fields import Field
from accounts.imports.kinds import Counts, KindImporter, Row, apply_values, split_name
from core.roles import MANAGER, REP, ROLES
from core.services import user_set_role, username_from_name

from .models import Membership, Territory
from .services import membership_ensure


class UserImporter(KindImporter):
    """People and their place: a sales agent under a manager in a regional territory.

    Each row is one user (by username, or the username derived from their full name) with a role;
    a `territory` makes them a member (created if missing), a `manager` makes that person a manager
    of the same territory (created with the manager role if missing).
    """

    kind = "users"
    fields = {
        x.name: x
        for x in [
            Field("name", f.text(300), help="full name"),
            Field("username", f.text(150)),
            Field("email", f.email),
            Field("role", f.choice(ROLES), help="rep, manager or admin (rep when empty)"),
            Field("manager", f.text(300), help="the manager's full name or username"),
            Field("territory", f.text(120), help="territory name; created when missing"),
        ]
    }

    def keys(self, row: Row) -> list[tuple]:
        username = row.values.get("username") or username_from_name(row.values.get("name") or "")
        if not username:
            raise f.FieldError("needs a username or a name")
        row.values["username"] = username
        return [("username", username)]

    def write(self, rows: list[Row], *, dry_run: bool) -> Counts:
        counts = Counts()
        self.created_people: set[str] = getattr(self, "created_people", set())
        self.created_territories: set[str] = getattr(self, "created_territories", set())
        for row in rows:
            if dry_run:
                exists = User.objects.filter(username=row.values["username"]).exists()
                counts.unchanged += exists
                counts.created += not exists
                continue
            with transaction.atomic():
                counts.add(self._write_one(row))
        return counts

    def _person(self, username: str, full_name: str, role: str) -> tuple[User, bool]:
        first, last = split_name(full_name) if full_name else ("", "")
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user_set_role(user=user, role=role)
        return user, created

    def _territory(self, name: str) -> Territory:
        territory = Territory.objects.filter(name__iexact=name).first()
        if territory is None:
            territory = Territory.objects.create(name=name)
            self.created_territories.add(name)
        return territory

    def _write_one(self, row: Row) -> Counts:
        v = row.values
        role = v.get("role") or REP
        user, created = self._person(v["username"], v.get("name") or "", role)
        changed = False
        if not created:
            wanted = {}
            if v.get("name"):
                wanted["first_name"], wanted["last_name"] = split_name(v["name"])
            if v.get("email"):
                wanted["email"] = v["email"]
            fields_changed = apply_values(user, wanted)
            if fields_changed:
                user.save(update_fields=fields_changed)
                changed = True
            if v.get("role") and not user.groups.filter(name=role).exists():
                user_set_role(user=user, role=role)
                changed = True
        elif v.get("email"):
            user.email = v["email"]
            user.save(update_fields=["email"])
        if v.get("territory") and role in (REP, MANAGER):
            territory = self._territory(v["territory"])
            membership_role = Membership.Role.MANAGER if role == MANAGER else Membership.Role.REP
            changed |= self._ensure_member(user, territory, membership_role) and not created
            if v.get("manager"):
                manager_name = v["manager"]
                manager_username = username_from_name(manager_name) if " " in manager_name else manager_name
                manager, manager_created = self._person(manager_username, manager_name, MANAGER)
                if manager_created:
                    self.created_people.add(manager_username)
                self._ensure_member(manager, territory, Membership.Role.MANAGER)
        if created:
            return Counts(created=1)
        return Counts(updated=1) if changed else Counts(unchanged=1)

    @staticmethod
    def _ensure_member(user: User, territory: Territory, role: str) -> bool:
        current = Membership.objects.filter(user=user, territory=territory).first()
        if current and current.role == role and current.is_active:
            return False
        membership_ensure(user=user, territory=territory, role=role)
        return True

    def finish(self, *, dry_run: bool) -> None:
        people = getattr(self, "created_people", set())
        territories = getattr(self, "created_territories", set())
        if people:
            self.notes.append(f"{len(people)} managers created: {', '.join(sorted(people))}.")
        if territories:
            self.notes.append(f"{len(territories)} territories created: {', '.join(sorted(territories))}.")
