"""Pagination for lists that can hold a million rows."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    """Counts at most `cap` rows, so the count under a list never reads more than that: past it the list says
    "10,000+" and offers the pages up to the cap (narrowing the filters reaches the rest). An exact count of a
    million-row list costs a scan of every row on each request; a capped one stops at the cap."""

    cap = 10_000

    def __init__(self, *args, known: int | None = None, **kwargs) -> None:
        """`known`: the count, when the caller has it from a cheaper read of the same rows (capped all the same)."""
        super().__init__(*args, **kwargs)
        self.known = known

    @cached_property
    def _counted(self) -> int:
        if self.known is not None:
            return self.known
        rows = self.object_list
        # A django-tables2 table pages its BoundRows, which hold the queryset (rows.data.data).
        queryset = rows if isinstance(rows, QuerySet) else getattr(getattr(rows, "data", None), "data", None)
        if isinstance(queryset, QuerySet):
            return queryset.order_by()[: self.cap + 1].count()  # which rows are counted does not matter
        return len(rows)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap

    @property
    def count_label(self) -> str:
        """The count as the page shows it: "1,234", or "10,000+" past the cap."""
        return f"{self.count:,}+" if self.capped else f"{self.count:,}"


class KnownCountPaginator(Paginator):
    """A paginator told its count by the caller, who can count the same rows more cheaply than the list's own query
    (e.g. from an index of another table); everything else is Django's."""

    def __init__(self, *args, count: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count
