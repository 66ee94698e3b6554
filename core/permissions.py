from rest_framework.permissions import BasePermission

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
