"""core.roles.user_roles: the roles a user holds, read in one statement and kept on the user for the request."""

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import ADMIN, MANAGER, REP, ROLES, primary_role, user_roles

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # a new object: nothing remembered on it


def test_the_roles_are_the_role_groups_held_and_nothing_else():
    user = User.objects.create_user("pat")
    other = User.objects.create_user("sam")
    assert user_roles(fresh(user)) == frozenset()
    user.groups.add(Group.objects.get(name=REP), Group.objects.create(name="Sales West"))
    other.groups.add(Group.objects.get(name=ADMIN))
    assert user_roles(fresh(user)) == {REP}
    user.groups.add(Group.objects.get(name=MANAGER))
    assert user_roles(fresh(user)) == {REP, MANAGER}
    assert primary_role(fresh(user)) == MANAGER
    assert user_roles(fresh(other)) == {ADMIN}


def test_a_superuser_holds_every_role_and_an_inactive_user_none():
    boss = User.objects.create_superuser("boss", password="x")
    assert user_roles(fresh(boss)) == frozenset(ROLES)
    gone = User.objects.create_user("gone", is_active=False)
    gone.groups.add(Group.objects.get(name=ADMIN))
    assert user_roles(fresh(gone)) == frozenset()


def test_asked_once_per_user_object():
    user = User.objects.create_user("pat")
    user.groups.add(Group.objects.get(name=REP))
    user = fresh(user)
    with CaptureQueriesContext(connection) as captured:
        for _ in range(5):
            assert user_roles(user) == {REP}
    assert len(captured.captured_queries) == 1
