from rest_framework.permissions import SAFE_METHODS, BasePermission

from .roles import has_role, is_admin


class HasRole(BasePermission):
    """Any signed-in user with a role; object scoping is done by the selectors."""

    message = "Your account has no role in this workspace; ask a RevOps admin to grant one."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user)


class IsRevOpsAdmin(BasePermission):
    message = "Only RevOps admins may do this."

    def has_permission(self, request, view) -> bool:
        return is_admin(request.user)


class ReadScopedWriteAdmin(BasePermission):
    """Reading is for every role (scoped by the selectors); writing is for RevOps admins."""

    message = "Only RevOps admins may change this."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return has_role(request.user)
        return is_admin(request.user)
