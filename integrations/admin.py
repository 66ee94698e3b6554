from django.contrib import admin

from core.admin import RoleAdmin

from .models import CrmConnection, CrmLink


@admin.register(CrmConnection)
class CrmConnectionAdmin(RoleAdmin):
    """Connections are set up on /integrations/crm/ (which encrypts credentials); here they are read and switched."""

    list_display = ("name", "vendor", "enabled", "push_enabled", "push_confirmed", "updated_at")
    list_filter = ("vendor", "enabled", "push_enabled")
    search_fields = ("name",)
    readonly_fields = ("vendor", "watermarks", "created_at", "updated_at")
    exclude = ("credentials_encrypted",)

    def has_add_permission(self, request) -> bool:
        return False  # added on /integrations/crm/, which encrypts the credentials


@admin.register(CrmLink)
class CrmLinkAdmin(RoleAdmin):
    list_display = ("connection", "object_kind", "crm_id", "object_id", "crm_modified_at")
    list_filter = ("connection", "object_kind")
    search_fields = ("crm_id",)
    raw_id_fields = ("connection",)
    list_select_related = ("connection",)
