"""The account list's table. Its score and spend-potential columns read what segmentation and insights store about
each account through the account's relations (`score`, `potential`), so this app never imports them."""

import django_tables2 as tables
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F
from django.urls import reverse
from django.utils.formats import localize
from django.utils.functional import cached_property

from core.pagination import CappedCountPaginator
from core.tablerows import tbody_html
from core.tiers import LABELS as TIER_LABELS
from core.tiers import tier_rank

from .criteria import money
from .models import Account


def related_or_none(account, name: str):
    """The account's one-to-one `name` (its score, its spend potential), or None when it has none."""
    try:
        return getattr(account, name)
    except ObjectDoesNotExist:
        return None


def _whole(value) -> str | None:
    return None if value is None else f"{value:,.0f}"


class ExpectedValueColumn:
    """The spend-potential column of an account list: sorted with accounts without one last, shown in whole USD."""

    def order_expected_value(self, queryset, is_descending):
        # Accounts without a spend potential last, whichever way (PostgreSQL would put them first when descending).
        value = F("potential__expected_value")
        order = value.desc(nulls_last=True) if is_descending else value.asc(nulls_last=True)
        return queryset.order_by(order, "pk"), True

    def render_expected_value(self, value):
        return _whole(value)


def _nulls_last(queryset, fields: tuple[str, ...], is_descending: bool):
    """`queryset` ordered by `fields`, rows without a value last whichever way (PostgreSQL puts NULLs first when
    descending, SQLite first when ascending)."""
    order = [F(f).desc(nulls_last=True) if is_descending else F(f).asc(nulls_last=True) for f in fields]
    return queryset.order_by(*order, "pk"), True


def score_ordered(queryset, order: str):
    """Scored accounts of `queryset` in a score order: `unified` (lowest first), `-unified` (best first), `tier` (best
    tier first, then by score), `-tier` (the reverse). Only scored accounts: the inner join lets PostgreSQL walk a score
    index and stop after a page, where a left join would sort every account on each request (seconds at a million)."""
    descending, name = order.startswith("-"), order.lstrip("-")
    queryset = queryset.filter(score__isnull=False)
    value = F("score__unified")
    if name == "tier":
        # The scores' (tier rank, unified) index.
        rank = F("tier_rank")
        keys = (rank.desc(), value.asc()) if descending else (rank.asc(), value.desc())
        return queryset.annotate(tier_rank=tier_rank()).order_by(*keys, "pk")
    return queryset.order_by(value.desc() if descending else value.asc(), "pk")


class _Row:
    """A row of a page made by ScoredFirstPaginator, read as django-tables2's rows are (`row.record`)."""

    __slots__ = ("record",)

    def __init__(self, record) -> None:
        self.record = record


class ScoredFirstPaginator(CappedCountPaginator):
    """The pages of a list in a score order: the scored accounts in that order, then those not scored yet (new
    accounts waiting for their first score, or all of them before a model is published), by name. Each part is read
    from its own index, a page at a time; the count (capped) is that of every matching account. A page costs one
    query, two where the scored part ends, and a count of the scored part on the pages after it."""

    def __init__(self, scored, *, unscored, every, per_page: int) -> None:
        super().__init__(scored, per_page)
        self.scored, self.unscored, self.every = scored, unscored, every

    @cached_property
    def _counted(self) -> int:
        return self.every.order_by()[: self.cap + 1].count()

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        records = list(self.scored[bottom : bottom + self.per_page])
        if len(records) < self.per_page and self.unscored is not None:
            if records or bottom == 0:
                scored_total = bottom + len(records)
            else:
                scored_total = self.scored.order_by()[: self.cap + 1].count()
            start = bottom + len(records) - scored_total
            records += list(self.unscored[start : start + self.per_page - len(records)])
        return self._get_page([_Row(record) for record in records], number, self)


# The keys of the scores' index for each score order of one tier's list: within one tier, best tier first is best
# score first, and worst tier first is lowest score first.
ONE_TIER_SCORE_KEYS = {
    "-unified": ("-unified", "account_id"),
    "unified": ("unified", "account_id"),
    "tier": ("-unified", "account_id"),
    "-tier": ("unified", "account_id"),
}


class ScoreIndexPaginator(CappedCountPaginator):
    """The pages of one tier's accounts in a score order, when nothing else narrows the list: each page's accounts are
    found in the scores alone (`scores`: one range of a score index, scoped by the scores' copy of the account's
    territory and owner), then read by id through `accounts` (the list's own query, with its scope). At a million
    accounts a page costs 50 look-ups instead of a join and sort of every account of the tier in the reader's scope;
    the count is the scores' too, capped as every list's is. Only read while the copies are right (segmentation keeps
    them by triggers): a drifted copy can leave a row out of a page, never show one outside the reader's scope."""

    def __init__(self, scores, *, accounts, order: str, per_page: int) -> None:
        super().__init__(scores.order_by(*ONE_TIER_SCORE_KEYS[order]), per_page)
        self.accounts = accounts

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = list(self.object_list.values_list("account_id", flat=True)[bottom : bottom + self.per_page])
        found = self.accounts.in_bulk(ids)
        return self._get_page([_Row(found[pk]) for pk in ids if pk in found], number, self)


class AccountTable(ExpectedValueColumn, tables.Table):
    """The account list. `?sort=column` sorts ascending, `?sort=-column` descending; with no sort the list is the
    unified score, best first (DEFAULT_ORDER). In a score order (score, tier) the scored accounts come first, in that
    order, then those not scored yet, by name (ScoredFirstPaginator)."""

    DEFAULT_ORDER = "-unified"
    SCORE_ORDERS = frozenset({"unified", "tier"})  # orders of the scored accounts, the others after them
    FIRST_DESCENDING = frozenset({"unified", "expected_value", "employee_count", "annual_revenue"})  # biggest first

    name = tables.Column(linkify=("account-detail", {"account_id": tables.A("pk")}), order_by=("name", "pk"))
    tier = tables.Column(accessor="score__tier", verbose_name="Tier", default="—")
    unified = tables.Column(
        accessor="score__unified", verbose_name="Score", default="—", attrs={"td": {"class": "text-end"}}
    )
    expected_value = tables.Column(
        accessor="potential__expected_value", verbose_name="Expected value", default="—",
        attrs={"td": {"class": "text-end"}},
    )  # fmt: skip
    industry = tables.Column(order_by=("industry", "pk"))
    country = tables.Column(order_by=("country", "pk"))
    employee_count = tables.Column(verbose_name="Employees", attrs={"td": {"class": "text-end"}})
    annual_revenue = tables.Column(verbose_name="Annual revenue", attrs={"td": {"class": "text-end"}})
    owner = tables.Column()
    territory = tables.Column()

    class Meta:
        model = Account
        fields = [
            "name", "tier", "unified", "expected_value", "industry", "country", "employee_count", "annual_revenue",
            "owner", "territory",
        ]  # fmt: skip
        attrs = {"class": "table table-sm table-striped table-hover"}
        empty_text = "No accounts match. Clear the filters, or ask your manager which territory you belong to."
        template_name = "accounts/_account_table.html"

    # The columns a page of the table reads (CELLS), with the relations it joins: the rest of an account (its JSON
    # attributes and technologies among them) is neither fetched nor decoded for a list page.
    READS = (
        "name", "industry", "country", "employee_count", "annual_revenue", "owner__first_name", "owner__last_name",
        "owner__username", "territory__name", "score__tier", "score__unified", "potential__expected_value",
    )  # fmt: skip

    def __init__(self, *args, sort_requested: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.sort_requested = sort_requested  # False: the order is the default one, not asked for in the URL

    # --- Orders ------------------------------------------------------------------------------------------------

    def order_unified(self, queryset, is_descending):
        return score_ordered(queryset, "-unified" if is_descending else "unified"), True

    def order_tier(self, queryset, is_descending):
        return score_ordered(queryset, "-tier" if is_descending else "tier"), True

    def order_employee_count(self, queryset, is_descending):
        return _nulls_last(queryset, ("employee_count",), is_descending)

    def order_annual_revenue(self, queryset, is_descending):
        return _nulls_last(queryset, ("annual_revenue",), is_descending)

    def order_owner(self, queryset, is_descending):
        # By the name the page shows; unassigned accounts last.
        return _nulls_last(queryset, ("owner__first_name", "owner__last_name", "owner__username"), is_descending)

    def order_territory(self, queryset, is_descending):
        return _nulls_last(queryset, ("territory__name",), is_descending)

    @classmethod
    def sort_of(cls, requested: str | None) -> tuple[str, bool]:
        """(the order to apply, whether it was asked for): `requested` when it names a sortable column (with an
        optional "-"), else the default order."""
        requested = (requested or "").strip()
        if requested.removeprefix("-") in cls.base_columns:
            return requested, True
        return cls.DEFAULT_ORDER, False

    @classmethod
    def reads_scores(cls, order: str) -> bool:
        return order.removeprefix("-") in cls.SCORE_ORDERS

    def headers(self) -> list[dict]:
        """Each column's header: its text, the sort its link asks for, and the arrow showing the current order (▲
        ascending, ▼ descending). A click on the column sorted by the URL reverses it; a click on any other column
        sorts it in its first direction (numbers biggest first, text A to Z), so a click on Score shows the best
        first even when that is already the default order."""
        current = self.order_by[0] if self.order_by else None
        headers = []
        for column in self.columns:
            name = column.name
            first = f"-{name}" if name in self.FIRST_DESCENDING else name
            sorted_here = current is not None and current.bare == name
            descending = sorted_here and current.is_descending
            reverse_it = sorted_here and self.sort_requested
            link = (name if descending else f"-{name}") if reverse_it else first
            headers.append(
                {
                    "name": name,
                    "text": column.header,
                    "css": column.attrs.get("td", {}).get("class"),
                    "sort": link,
                    "arrow": ("▼" if descending else "▲") if sorted_here else "",
                    "aria_sort": ("descending" if descending else "ascending") if sorted_here else None,
                    "title": f"Sort by {str(column.header).lower()}, {_direction(name, link.startswith('-'))}",
                }
            )
        return headers

    # --- Cells ----------------------------------------------------------------------------------------------------

    # The page's cells, each shown as its column's render_* method (or django-tables2's default) shows it, made in one
    # pass: django-tables2's generic cell rendering cost a quarter of a second for a page of 50 accounts. CSV exports
    # have their own formatting (views.EXPORT_COLUMNS).
    CELLS = {
        "name": lambda a: a.name,
        "tier": lambda a: (score := related_or_none(a, "score")) and TIER_LABELS.get(score.tier, score.tier),
        "unified": lambda a: (score := related_or_none(a, "score")) and localize(score.unified),
        "expected_value": lambda a: (potential := related_or_none(a, "potential")) and _money(potential.expected_value),
        "industry": lambda a: a.industry,
        "country": lambda a: a.country,
        "employee_count": lambda a: _count(a.employee_count),
        "annual_revenue": lambda a: _money(a.annual_revenue),
        "owner": lambda a: a.owner and (a.owner.get_full_name() or a.owner.username),
        "territory": lambda a: a.territory and a.territory.name,
    }

    def tbody_html(self):
        """The <tbody> of the current page, from `page_cells` (core/tablerows.py)."""
        return tbody_html(self.page_cells(), columns=len(self.columns), empty_text=self.empty_text)

    def page_cells(self) -> list[tuple[str, list[tuple[str | None, str]]]]:
        """[(the account's page, [(td class, text), ...] in the columns' order)] for the rows of the current page."""
        columns = [(c.name, c.attrs.get("td", {}).get("class")) for c in self.columns]
        detail = reverse("account-detail", args=[0]).removesuffix("0/")
        rows = []
        for row in self.paginated_rows:
            account = row.record
            cells = []
            for name, css in columns:
                text = self.CELLS[name](account)
                cells.append((css, "—" if text in (None, "", False) else text))
            rows.append((f"{detail}{account.pk}/", cells))
        return rows

    def render_annual_revenue(self, value):
        return _money(value)

    def render_expected_value(self, value):
        return _money(value)

    def render_employee_count(self, value):
        return _count(value)

    def render_tier(self, value):
        return TIER_LABELS.get(value, value)

    def render_owner(self, value):
        return value.get_full_name() or value.username


def _money(value) -> str | None:
    return None if value is None else money(float(value))


def _count(value) -> str | None:
    return None if value is None else f"{value:,}"


def _direction(name: str, descending: bool) -> str:
    if name == "tier":
        return "worst first" if descending else "best first"
    if name in AccountTable.FIRST_DESCENDING:
        return "highest first" if descending else "lowest first"
    return "Z to A" if descending else "A to Z"
