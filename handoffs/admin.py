from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Handoff, SlaPolicy
from .selectors import handoff_list


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ReadOnlyAdmin):
    """Read here; admins change policies on the SLA policies page, which checks the clock."""

    list_display = ["tier", "accept_within_hours", "calendar", "time_zone", "breach_action", "updated_at"]


@admin.register(Handoff)
class HandoffAdmin(ReadOnlyAdmin):
    """Read-only: decisions and reassignments go through the queue, the manager view and the API."""

    list_display = ["account", "owner", "tier", "status", "accept_due_at", "breached_at", "breached_by", "decided_at"]
    list_filter = ["status", "tier", "territory"]
    search_fields = ["account__name"]

    def get_queryset(self, request):
        return handoff_list(user=request.user).select_related("account", "owner")
