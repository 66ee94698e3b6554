"""The three roles of the product, kept as Django groups (created by a data migration)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

REP = "rep"
MANAGER = "manager"
ADMIN = "admin"
ROLES = (REP, MANAGER, ADMIN)
ROLE_LABELS = {REP: "Sales rep", MANAGER: "Sales manager", ADMIN: "RevOps admin"}


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The roles a user holds; a superuser holds them all. Cached on the user object per request."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_revops_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(ROLES)
        else:
            cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._revops_roles = cached
    return cached


def is_admin(user) -> bool:
    return ADMIN in user_roles(user)


def is_manager(user) -> bool:
    return MANAGER in user_roles(user)


def is_rep(user) -> bool:
    return REP in user_roles(user)


def has_role(user) -> bool:
    return bool(user_roles(user))


def primary_role(user) -> str | None:
    """The role whose home page a user sees: the most powerful one they hold."""
    roles = user_roles(user)
    for role in (ADMIN, MANAGER, REP):
        if role in roles:
            return role
    return None
