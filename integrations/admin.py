from django.contrib import admin

from core.admin import RoleAdmin

from .models import Alert, AlertChannel, AlertCursor, AlertPreference


@admin.register(AlertChannel)
class AlertChannelAdmin(RoleAdmin):
    """Chat channels (the Chat alerts pages add and test them; here for a look at every field)."""

    list_display = ["name", "kind", "territory", "carries_mqa", "carries_breach", "carries_surge", "last_sent_at"]
    list_filter = ["kind", "territory"]
    search_fields = ["name"]
    readonly_fields = ["quiet_until", "last_sent_at", "last_error", "last_error_at", "created_at", "updated_at"]


@admin.register(AlertPreference)
class AlertPreferenceAdmin(RoleAdmin):
    """Each person's chat alerts and Slack member ID (people set their own on the Chat alerts page)."""

    list_display = ["user", "slack_user_id", "mqa", "breach", "surge", "updated_at"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "slack_user_id"]
    raw_id_fields = ["user"]


@admin.register(Alert)
class AlertAdmin(RoleAdmin):
    """Alerts held, sent and failed, read-only."""

    list_display = ["created_at", "channel", "kind", "account_name", "status", "in_digest", "sent_at"]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["account_name"]
    fields = [*list_display, "event_id", "account_id", "people", "error"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertCursor)
class AlertCursorAdmin(RoleAdmin):
    """How far the alerts have read the event log."""

    list_display = ["name", "last_seq", "updated_at"]
    readonly_fields = ["name", "last_seq", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return False
