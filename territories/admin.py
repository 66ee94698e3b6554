from django.contrib import admin

from core.admin import RoleAdmin

from .models import Membership, Territory
from .selectors import membership_list, territory_list


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


@admin.register(Membership)
class MembershipAdmin(RoleAdmin):
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
