from django.contrib import admin

from core.admin import RoleAdmin

from .definition import criteria_errors
from .models import ICP, AccountScore, ScoringModel


@admin.register(ICP)
class ICPAdmin(RoleAdmin):
    list_display = ["name", "updated_at", "updated_by"]
    search_fields = ["name"]
    readonly_fields = ["updated_by"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class CheckedForm(form):
            def clean(self):
                data = super().clean()
                for name, with_points in (("criteria", True), ("exclusions", False)):
                    for index, errors in criteria_errors(data.get(name) or [], with_points=with_points).items():
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
