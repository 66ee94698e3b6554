from django.contrib import admin

from accounts.selectors import criteria_problems
from core.admin import ReadOnlyAdmin, RoleAdmin

from .models import ICP, MQA, AccountScore, Lookalike, LookalikeRun, Play, ScoringModel, ShadowScore, TierChange
from .plays import play_save
from .services import icp_create, icp_update


@admin.register(ICP)
class ICPAdmin(RoleAdmin):
    list_display = ["name", "updated_at", "updated_by"]
    search_fields = ["name"]
    readonly_fields = ["updated_by"]

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            icp_update(icp=obj, user=request.user, values=values)
        else:
            obj.pk = icp_create(user=request.user, values={n: form.cleaned_data[n] for n in form.cleaned_data}).pk

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class CheckedForm(form):
            def clean(self):
                data = super().clean()
                for name, with_points in (("criteria", True), ("exclusions", False)):
                    for index, errors in criteria_problems(data.get(name) or [], with_points=with_points).items():
                        for field, message in errors.items():
                            self.add_error(name, f"{name.capitalize()} {index + 1} ({field}): {message}")
                return data

        return CheckedForm


@admin.register(ScoringModel)
class ScoringModelAdmin(RoleAdmin):
    """Versions are edited, previewed and published on the Scoring pages, which check them; here they are read."""

    list_display = ["version", "name", "status", "icp", "published_at", "published_by"]
    list_filter = ["status"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    has_add_permission = has_delete_permission = lambda self, request, obj=None: False  # noqa: E731


@admin.register(AccountScore)
class AccountScoreAdmin(RoleAdmin):
    list_display = ["account", "model", "tier", "unified", "fit", "signal", "coverage", "as_of"]
    list_filter = ["tier"]
    raw_id_fields = ["account"]
    list_select_related = ["account", "model"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    has_add_permission = has_delete_permission = lambda self, request, obj=None: False  # noqa: E731


@admin.register(ShadowScore)
class ShadowScoreAdmin(ReadOnlyAdmin):
    """The scores of the version running in shadow: read only, written by every rescore."""

    list_display = ["account", "model", "tier", "unified", "fit", "signal", "coverage", "as_of"]
    list_filter = ["tier"]
    raw_id_fields = ["account"]
    list_select_related = ["account", "model"]


@admin.register(Lookalike)
class LookalikeAdmin(ReadOnlyAdmin):
    """Why each account has its lookalike score: read only, written by every lookalike refresh."""

    list_display = ["account", "score", "traits", "computed_at"]
    raw_id_fields = ["account"]
    list_select_related = ["account"]


@admin.register(LookalikeRun)
class LookalikeRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "finished_at", "trigger", "period_days", "won_accounts", "accounts", "changed"]


@admin.register(Play)
class PlayAdmin(RoleAdmin):
    """One play per tier, also edited on the Scoring pages; a tier without a play may get one here."""

    list_display = ["tier", "name", "motion", "owner_role", "primary_kpi", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def get_readonly_fields(self, request, obj=None):
        # A play stays with its tier; only a new play picks one.
        return ["tier", *self.readonly_fields] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        play_save(play=obj, user=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    list_display = ["account", "from_tier", "to_tier", "unified", "fit", "signal", "model", "at"]
    list_filter = ["from_tier", "to_tier"]
    search_fields = ["account__name"]
    list_select_related = ["account", "model"]
    raw_id_fields = ["account"]


@admin.register(MQA)
class MQAAdmin(ReadOnlyAdmin):
    list_display = ["account", "tier", "status", "unified", "fit", "signal", "coverage", "qualified_at", "decided_at"]
    list_filter = ["status", "tier"]
    search_fields = ["account__name"]
    list_select_related = ["account", "model"]
    raw_id_fields = ["account"]
