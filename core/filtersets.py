"""What the filtered lists share."""

from __future__ import annotations


class PartialFilterMixin:
    """For a django-filter FilterSet: its rows with every filter applied but some (a page's counts or summary
    tables that must not be narrowed by the filter they break down)."""

    def qs_except(self, *names: str):
        """The rows with every filter applied but `names`. An invalid filter shows nothing, as the list does."""
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        queryset = self.queryset.all()
        for name, value in getattr(self.form, "cleaned_data", {}).items():
            if name not in names:
                queryset = self.filters[name].filter(queryset, value)
        return queryset
