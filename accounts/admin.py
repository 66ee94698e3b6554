from django.contrib import admin

from core.admin import RoleAdmin

from .models import Account, Contact, Opportunity, Signal
from .selectors import account_list, contact_list, opportunity_list, signal_list


@admin.register(Account)
class AccountAdmin(RoleAdmin):
    list_display = ["name", "domain", "external_id", "industry", "country", "employee_count", "owner", "territory"]
    list_filter = ["territory", "is_customer", "industry"]
    search_fields = ["name", "domain", "external_id"]
    raw_id_fields = ["parent", "owner"]
    list_select_related = ["owner", "territory"]

    def get_queryset(self, request):
        return account_list(user=request.user)


@admin.register(Contact)
class ContactAdmin(RoleAdmin):
    list_display = ["name", "email", "title", "persona", "account"]
    list_filter = ["persona"]
    search_fields = ["name", "email", "account__name"]
    raw_id_fields = ["account"]
    list_select_related = ["account"]

    def get_queryset(self, request):
        return contact_list(user=request.user)


@admin.register(Signal)
class SignalAdmin(RoleAdmin):
    list_display = ["kind", "topic", "occurred_at", "account", "contact", "source", "external_id"]
    list_filter = ["kind"]
    search_fields = ["external_id", "account__name"]
    raw_id_fields = ["account", "contact"]
    list_select_related = ["account", "contact"]
    show_full_result_count = False  # counting millions of signals on every page would be slow

    def get_queryset(self, request):
        return signal_list(user=request.user)


@admin.register(Opportunity)
class OpportunityAdmin(RoleAdmin):
    list_display = ["external_id", "account", "product", "stage", "amount", "is_closed", "is_won", "closed_on", "owner"]
    list_filter = ["stage", "is_closed", "is_won"]
    search_fields = ["external_id", "name", "account__name"]
    raw_id_fields = ["account", "owner"]
    list_select_related = ["account", "owner"]

    def get_queryset(self, request):
        return opportunity_list(user=request.user)
