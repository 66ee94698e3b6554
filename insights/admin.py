from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import AccountPotential, KpiSnapshot


@admin.register(AccountPotential)
class AccountPotentialAdmin(ReadOnlyAdmin):
    list_display = ["account", "expected_value", "win_probability", "deal_size", "band", "computed_at"]
    search_fields = ["account__name"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["on", "kpi", "scope", "scope_id", "numerator", "denominator"]
    list_filter = ["kpi", "scope"]
    date_hierarchy = "on"
