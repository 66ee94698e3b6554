from django.contrib import admin

from core.admin import ReadOnlyAdmin, RoleAdmin

from .alerts.forms import AlertPreferenceAdminForm
from .models import (
    Alert,
    AlertChannel,
    AlertCursor,
    AlertPreference,
    CrmConnection,
    CrmLink,
    WebhookCursor,
    WebhookDelivery,
    WebhookEndpoint,
)


@admin.register(AlertChannel)
class AlertChannelAdmin(ReadOnlyAdmin):
    """Chat channels, read-only: the Chat alerts pages add, check and edit them (the webhook's address is checked
    there, and it is a secret: it is not shown here)."""

    list_display = ["name", "kind", "territory", "carries_mqa", "carries_breach", "carries_surge", "last_sent_at"]
    list_filter = ["kind", "territory"]
    search_fields = ["name"]
    exclude = ["webhook_url"]


@admin.register(AlertPreference)
class AlertPreferenceAdmin(RoleAdmin):
    """Each person's chat alerts and Slack member ID (people set their own on the Chat alerts page; the same rule)."""

    form = AlertPreferenceAdminForm

    list_display = ["user", "slack_user_id", "mqa", "breach", "surge", "updated_at"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "slack_user_id"]
    raw_id_fields = ["user"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """Alerts held, sent and failed, read-only."""

    list_display = ["created_at", "channel", "kind", "account_name", "status", "in_digest", "sent_at"]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["account_name"]
    fields = [*list_display, "event_id", "account_id", "people", "error"]


@admin.register(CrmConnection)
class CrmConnectionAdmin(RoleAdmin):
    """Connections are set up on /integrations/crm/ (which encrypts credentials); here they are read and switched."""

    list_display = ("name", "vendor", "enabled", "push_enabled", "push_confirmed", "updated_at")
    list_filter = ("vendor", "enabled", "push_enabled")
    search_fields = ("name",)
    # The settings (addresses, mapping, push fields) and the first push's confirmation are the pages' to change:
    # they check the addresses, and the confirmation follows the changes shown.
    # The name too: the pages keep names unique whatever their case.
    readonly_fields = ("name", "vendor", "settings", "push_confirmed", "watermarks", "created_at", "updated_at")
    exclude = ("credentials_encrypted",)

    def has_add_permission(self, request) -> bool:
        return False  # added on /integrations/crm/, which encrypts the credentials


@admin.register(CrmLink)
class CrmLinkAdmin(ReadOnlyAdmin):
    list_display = ("connection", "object_kind", "crm_id", "object_id", "crm_modified_at")
    list_filter = ("connection", "object_kind")
    search_fields = ("crm_id",)
    raw_id_fields = ("connection",)
    list_select_related = ("connection",)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    """Endpoints, read-only: the Integrations → Webhooks pages add and edit them (they check the address, make the
    secret and reset the failures on re-activation); secrets are never shown."""

    list_display = ["name", "url", "active", "consecutive_failures", "disabled_at", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log, read-only (redeliver from the Webhooks pages)."""

    list_display = ["id", "endpoint", "event", "status", "attempts", "response_code", "next_attempt_at"]
    list_filter = ["status", "endpoint"]
    list_select_related = ["endpoint", "event"]
    fields = [
        "endpoint",
        "event",
        "key",
        "status",
        "attempts",
        "redeliveries",
        "response_code",
        "last_error",
        "duration_ms",
        "next_attempt_at",
        "last_attempt_at",
        "delivered_at",
        "created_at",
    ]
    readonly_fields = fields


@admin.register(WebhookCursor)
class WebhookCursorAdmin(ReadOnlyAdmin):
    """How far events have been handed to webhooks (read-only)."""

    list_display = ["name", "seq", "updated_at"]
    readonly_fields = ["name", "seq", "updated_at"]


@admin.register(AlertCursor)
class AlertCursorAdmin(ReadOnlyAdmin):
    """How far the alerts have read the event log."""

    list_display = ["name", "last_seq", "updated_at"]
    readonly_fields = ["name", "last_seq", "updated_at"]
