"""Who may call the API, and what a refused caller is told: a message that fits what they tried (reading or changing)
and names what they tried it on ("accounts", "SLA policies"), so a read is never answered with a rule about writes.

Anonymous callers get 401 before any of these run (DRF's authentication). Object scoping is the selectors' work.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .roles import has_role, is_admin


def is_read(request) -> bool:
    return request.method in SAFE_METHODS


def subject(view) -> str:
    """What the endpoint serves, in words: the view's `permission_subject` if it names one, else its model's plural
    ("accounts", "scoring models", "SLA policies"), else "this"."""
    named = getattr(view, "permission_subject", None)
    if named:
        return str(named)
    model = getattr(getattr(view, "queryset", None), "model", None)
    if model is None:
        serializer = getattr(view, "serializer_class", None)
        model = getattr(getattr(serializer, "Meta", None), "model", None)
    return str(model._meta.verbose_name_plural) if model is not None else "this"


def no_role_message(request, view) -> str:
    """The refusal of a user without a role, e.g. "... before you can read accounts" for GET /api/v1/accounts/."""
    action = "read" if is_read(request) else "change"
    return f"Your account has no role yet: a RevOps admin must give you one before you can {action} {subject(view)}."


class HasRole(BasePermission):
    """Any signed-in user with a role; object scoping is done by the selectors."""

    message = "Your account has no role yet: a RevOps admin must give you one before you can use the API."

    def has_permission(self, request, view) -> bool:
        if has_role(request.user):
            return True
        self.message = no_role_message(request, view)
        return False


class IsRevOpsAdmin(BasePermission):
    """RevOps admins only, to read and to write ("do" fits both)."""

    message = "Only RevOps admins may do this."

    def has_permission(self, request, view) -> bool:
        return is_admin(request.user)


class ReadScopedWriteAdmin(BasePermission):
    """Reading is for every role (scoped by the selectors); writing is for RevOps admins. A read is refused only to a
    user without a role, and told so; a write is refused to everyone but admins, and told who may change it."""

    message = "Only RevOps admins may change this."

    def has_permission(self, request, view) -> bool:
        if is_read(request):
            if has_role(request.user):
                return True
            self.message = no_role_message(request, view)
            return False
        if is_admin(request.user):
            return True
        self.message = f"Only RevOps admins may change {subject(view)}."
        return False
