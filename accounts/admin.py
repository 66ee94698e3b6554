from django.contrib import admin

from core.admin import ReadOnlyAdmin, RoleAdmin

from .changes import accounts_changed, owners_changed, won_deals_changed, won_state
from .models import Account, AccountMerge, Contact, DuplicateCandidate, Opportunity, Signal, TopicSurge
from .selectors import account_list, contact_list, opportunity_list, signal_list


class ChangesAdmin(RoleAdmin):
    """An edit here means what it means anywhere else (changes.py): the account it touches is rescored."""

    def _accounts(self, objs) -> list[int]:
        return [obj.pk if isinstance(obj, Account) else obj.account_id for obj in objs]

    def save_model(self, request, obj, form, change):
        before = (
            self.model.objects.filter(pk=obj.pk).values_list("account_id", flat=True).first()
            if change and not isinstance(obj, Account)
            else None
        )
        super().save_model(request, obj, form, change)
        if isinstance(obj, Account):
            accounts_changed([obj.pk], route=not change or "territory" not in form.changed_data)
            if change and "owner" in form.changed_data:
                owners_changed([obj.pk])
        else:
            accounts_changed({obj.account_id, before} - {None})

    def delete_model(self, request, obj):
        ids = self._accounts([obj])
        super().delete_model(request, obj)
        accounts_changed(ids)

    def delete_queryset(self, request, queryset):
        ids = self._accounts(queryset)
        super().delete_queryset(request, queryset)
        accounts_changed(ids)


@admin.register(Account)
class AccountAdmin(ChangesAdmin):
    list_display = ["name", "domain", "external_id", "industry", "country", "employee_count", "owner", "territory"]
    list_filter = ["territory", "is_customer", "industry"]
    search_fields = ["name", "domain", "external_id"]
    raw_id_fields = ["parent", "owner"]
    list_select_related = ["owner", "territory"]

    def get_queryset(self, request):
        return account_list(user=request.user)


@admin.register(Contact)
class ContactAdmin(ChangesAdmin):
    list_display = ["name", "email", "title", "persona", "account"]
    list_filter = ["persona"]
    search_fields = ["name", "email", "account__name"]
    raw_id_fields = ["account"]
    list_select_related = ["account"]

    def get_queryset(self, request):
        return contact_list(user=request.user)


@admin.register(Signal)
class SignalAdmin(ChangesAdmin):
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

    # A won deal changed here means what it means anywhere else (changes.py): lookalike scores are refreshed.
    def save_model(self, request, obj, form, change):
        before = won_state(Opportunity.objects.filter(pk=obj.pk).first() if change else None)
        super().save_model(request, obj, form, change)
        after = won_state(obj)
        if before != after and (before[1] or after[1]):
            won_deals_changed([before[0], after[0]])

    def delete_model(self, request, obj):
        won = obj.is_won
        super().delete_model(request, obj)
        if won:
            won_deals_changed([obj.account_id])

    def delete_queryset(self, request, queryset):
        ids = list(queryset.filter(is_won=True).values_list("account_id", flat=True))
        super().delete_queryset(request, queryset)
        won_deals_changed(ids)


@admin.register(TopicSurge)
class TopicSurgeAdmin(ReadOnlyAdmin):
    """Each account's topics against its own baseline: read only, written by every topic refresh."""

    list_display = ["account", "label", "recent_count", "baseline_mean", "z", "surging", "computed_at"]
    list_filter = ["surging"]
    search_fields = ["topic", "account__name"]
    raw_id_fields = ["account"]
    list_select_related = ["account"]


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(ReadOnlyAdmin):
    """Pairs the last duplicates job found: read only; admins merge them from the Duplicates page."""

    list_display = ["account_a", "account_b", "score", "found_at"]
    raw_id_fields = ["account_a", "account_b"]
    list_select_related = ["account_a", "account_b"]


@admin.register(AccountMerge)
class AccountMergeAdmin(ReadOnlyAdmin):
    """Every merge: what was merged into what, by whom, and what moved (read only)."""

    list_display = ["merged_name", "survivor_name", "merged_by", "merged_at"]
    search_fields = ["merged_name", "survivor_name", "merged_external_id"]
    raw_id_fields = ["survivor", "merged_by"]
