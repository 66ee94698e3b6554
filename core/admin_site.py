from django.contrib import admin

from .roles import is_admin


class RevOpsAdminSite(admin.AdminSite):
    """Django admin for RevOps admins (the `admin` role) and superusers only."""

    site_header = "RevOps administration"
    site_title = "RevOps admin"

    def has_permission(self, request) -> bool:
        return request.user.is_active and is_admin(request.user)
