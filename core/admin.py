from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from .models import ApiToken, Event, Job, SsoGroupRole
from .roles import is_admin
from .selectors import job_list


class RoleAdmin(admin.ModelAdmin):
    """Model admin whose permissions follow the product's roles; lists come from the access selectors."""

    def has_module_permission(self, request) -> bool:
        return is_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_admin(request.user)

    has_add_permission = has_module_permission

    def has_change_permission(self, request, obj=None) -> bool:
        return is_admin(request.user)

    has_delete_permission = has_change_permission


@admin.register(Job)
class JobAdmin(RoleAdmin):
    list_display = ["id", "kind", "title", "status", "done", "total", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    readonly_fields = ["done", "total", "started_at", "finished_at", "created_at"]

    def get_queryset(self, request):
        return job_list(user=request.user)


@admin.register(ApiToken)
class ApiTokenAdmin(RoleAdmin):
    """Every user's tokens, for an admin to revoke one (a leaked key, a departed contractor); keys are never shown."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    fields = list_display
    readonly_fields = list_display
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # tokens are made by their users, who see the key once

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        from django.utils import timezone

        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} token(s).")


@admin.register(SsoGroupRole)
class SsoGroupRoleAdmin(RoleAdmin):
    """IdP group -> role mappings (the "Single sign-on" page is where admins normally keep them)."""

    list_display = ["group", "role"]
    list_filter = ["role"]
    search_fields = ["group"]


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class RoleUserAdmin(RoleAdmin, UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_active", "roles"]
    list_filter = ["groups", "is_active", "is_superuser"]

    @admin.display(description="roles")
    def roles(self, obj) -> str:
        return ", ".join(group.name for group in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")


@admin.register(Group)
class RoleGroupAdmin(RoleAdmin, GroupAdmin):
    pass


class ReadOnlyAdmin(RoleAdmin):
    """Records the product writes (history, decisions): admins read them here, nobody edits them here."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    has_add_permission = has_delete_permission = lambda self, request, obj=None: False  # noqa: E731


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The domain event log, read-only: what the change feed, webhooks and alerts are made of."""

    list_display = ["id", "seq", "kind", "occurred_at", "account_id", "actor_id"]
    list_filter = ["kind"]
    fields = [*list_display, "data"]
