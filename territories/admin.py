from django.contrib import admin

from core.admin import ReadOnlyAdmin, RoleAdmin

from .models import (
    AssignmentPreview,
    Membership,
    OwnershipChange,
    PlannedMove,
    Quota,
    RepQuota,
    Scenario,
    ScenarioAssignment,
    ScenarioMember,
    ScenarioTerritory,
    Territory,
)
from .selectors import membership_list, territory_list
from .services import capacity_changed


class CapacityAdmin(RoleAdmin):
    """Who works a territory is its Tier 1 capacity: an edit here queues the check, as the services do."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        capacity_changed([obj.territory_id])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        capacity_changed([obj.territory_id])

    def delete_queryset(self, request, queryset):
        territory_ids = set(queryset.values_list("territory_id", flat=True))
        super().delete_queryset(request, queryset)
        capacity_changed(territory_ids)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Territory)
class TerritoryAdmin(RoleAdmin):
    list_display = ["name", "parent", "priority", "strategy", "is_active"]
    list_filter = ["is_active", "strategy"]
    search_fields = ["name"]
    raw_id_fields = ["named_accounts"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return territory_list(user=request.user)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            capacity_changed([form.instance.pk])


@admin.register(Membership)
class MembershipAdmin(CapacityAdmin):
    list_display = [
        "user",
        "territory",
        "role",
        "max_accounts",
        "max_tier1_accounts",
        "away_from",
        "away_until",
        "is_active",
    ]
    list_filter = ["role", "is_active", "territory"]
    raw_id_fields = ["user"]

    def get_queryset(self, request):
        return membership_list(user=request.user)


@admin.register(Quota)
class QuotaAdmin(RoleAdmin):
    list_display = ["territory", "period_start", "period_end", "amount", "updated_by", "updated_at"]
    list_filter = ["territory"]
    list_select_related = ["territory", "updated_by"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(RepQuota)
class RepQuotaAdmin(RoleAdmin):
    list_display = ["user", "territory", "period_start", "period_end", "amount", "updated_by", "updated_at"]
    list_filter = ["territory"]
    list_select_related = ["user", "territory", "updated_by"]
    raw_id_fields = ["user"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(OwnershipChange)
class OwnershipChangeAdmin(ReadOnlyAdmin):
    list_display = ["account", "from_owner", "to_owner", "from_territory", "to_territory", "rule", "changed_by", "at"]
    search_fields = ["account__name", "rule"]
    list_select_related = ["account", "from_owner", "to_owner", "from_territory", "to_territory", "changed_by"]
    raw_id_fields = ["account"]


# Assignment previews are prepared on the assignment preview page (or the API) and read there page by page.
@admin.register(AssignmentPreview)
class AssignmentPreviewAdmin(ReadOnlyAdmin):
    list_display = ["created_by", "created_at", "status", "considered", "move_count", "unassigned", "outside_scope"]
    list_filter = ["status"]
    list_select_related = ["created_by"]


@admin.register(PlannedMove)
class PlannedMoveAdmin(ReadOnlyAdmin):
    list_display = ["preview", "position", "account_name", "from_owner_id", "to_owner_id", "rule"]
    list_select_related = ["preview"]
    search_fields = ["account_name", "rule"]
    show_full_result_count = False  # a preview of a million accounts holds a million moves


# Planning scenarios are made, edited, balanced and applied on their pages (Territories > Planning scenarios), where
# the rules of who may plan what hold; here they are only read.
@admin.register(Scenario)
class ScenarioAdmin(ReadOnlyAdmin):
    list_display = ["name", "status", "created_by", "covers_all", "disruption", "ran_at", "applied_at"]
    list_filter = ["status"]
    search_fields = ["name"]


@admin.register(ScenarioTerritory)
class ScenarioTerritoryAdmin(ReadOnlyAdmin):
    list_display = ["scenario", "name", "source", "priority", "strategy", "is_active"]
    list_select_related = ["scenario", "source"]


@admin.register(ScenarioMember)
class ScenarioMemberAdmin(ReadOnlyAdmin):
    list_display = ["territory", "user", "role", "max_accounts", "max_tier1_accounts", "weight", "is_active"]
    list_select_related = ["territory", "user"]


@admin.register(ScenarioAssignment)
class ScenarioAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["scenario", "account", "from_owner", "to_owner", "from_territory", "to_territory"]
    list_select_related = ["scenario", "account", "from_owner", "to_owner", "from_territory", "to_territory"]
    raw_id_fields = ["account"]
