"""The account list's table. Its score and spend-potential columns read what segmentation and insights store about
each account through the account's relations (`score`, `potential`), so this app never imports them."""

import django_tables2 as tables
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F
from django.db.models.expressions import RawSQL
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


def loaded_or(instance, name: str, query):
    """The one-to-one `name` of `instance` (None when it has none) if the query that read `instance` joined it
    (select_related), else `query()`: a part of a page reads what the page's view already joined, and asks otherwise."""
    if instance._meta.get_field(name).is_cached(instance):
        return related_or_none(instance, name)
    return query()


def person_label(first_name, last_name, username) -> str:
    """A user as User.get_full_name() says it, or their username when they have no name ("" for nobody)."""
    return f"{first_name or ''} {last_name or ''}".strip() or username or ""


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
    """A row of a page made by ScoredFirstPaginator or ScoreIndexPaginator, read as django-tables2's rows are
    (`row.record`)."""

    __slots__ = ("record",)

    def __init__(self, record) -> None:
        self.record = record


# What a page of the list reads of each account (AccountTable.CELLS shows them), as values: the account's own
# columns, its owner's and territory's names, its score and spend potential. The names of AccountRow's fields, in order.
ROW_VALUES = (
    "pk", "name", "industry", "country", "employee_count", "annual_revenue", "owner__first_name", "owner__last_name",
    "owner__username", "territory__name", "score__tier", "score__unified", "potential__expected_value",
)  # fmt: skip


class AccountRow:
    """An account of a list page as the table shows it, read as values (ROW_VALUES): no account, owner, territory,
    score and spend-potential objects built per row, where a page of 50 built 250 of them."""

    __slots__ = tuple(name.replace("__", "_") for name in ROW_VALUES)

    def __init__(self, values) -> None:
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)

    @classmethod
    def of(cls, account) -> "AccountRow":
        """The row of an account object (the lists in an order the scores' pages don't serve)."""
        owner, territory = account.owner, account.territory
        score, potential = related_or_none(account, "score"), related_or_none(account, "potential")
        return cls(
            (
                account.pk, account.name, account.industry, account.country, account.employee_count,
                account.annual_revenue, owner and owner.first_name, owner and owner.last_name, owner and owner.username,
                territory and territory.name, score and score.tier, score and score.unified,
                potential and potential.expected_value,
            )
        )  # fmt: skip

    @property
    def id(self):
        return self.pk

    @property
    def owner_label(self) -> str | None:
        """The owner as User.get_full_name() says it, or their username; None when no one owns the account."""
        if self.owner_username is None:
            return None
        return person_label(self.owner_first_name, self.owner_last_name, self.owner_username)


def account_rows(queryset) -> list[_Row]:
    """The rows of `queryset` (accounts, ordered and sliced as the page wants them), read as values."""
    return [_Row(AccountRow(values)) for values in queryset.values_list(*ROW_VALUES)]


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
        rows = account_rows(self.scored[bottom : bottom + self.per_page])
        if len(rows) < self.per_page and self.unscored is not None:
            # The scored part ends on this page, or ended before it (then counted).
            ended = rows or bottom == 0
            scored_total = bottom + len(rows) if ended else self.scored.order_by()[: self.cap + 1].count()
            start = bottom + len(rows) - scored_total
            rows += account_rows(self.unscored[start : start + self.per_page - len(rows)])
        return self._get_page(rows, number, self)


# The keys of the scores' index for each score order of one tier's list: within one tier, best tier first is best
# score first, and worst tier first is lowest score first.
ONE_TIER_SCORE_KEYS = {
    "-unified": ("-unified", "account_id"),
    "unified": ("unified", "account_id"),
    "tier": ("-unified", "account_id"),
    "-tier": ("unified", "account_id"),
}
# The same orders for the page's accounts (their score through the relation).
ONE_TIER_ACCOUNT_KEYS = {
    order: tuple(key.replace("unified", "score__unified").replace("account_id", "pk") for key in keys)
    for order, keys in ONE_TIER_SCORE_KEYS.items()
}


class ScoreIndexPages:
    """Pages of one tier's accounts in a score order (`order`, a key of ONE_TIER_SCORE_KEYS), when nothing else
    narrows the list: each page's accounts are found in the scores alone (`scores`: one range of a score index, scoped
    by the scores' copy of the account's territory and owner), then read by id through `accounts` (the list's own
    query, with its scope), in one query. At a million accounts a page costs 50 look-ups instead of a join and sort of
    every account of the tier in the reader's scope, whatever the page's number. Mixed into a paginator that is told
    its count (the scores' too: accounts.selectors.scored_count). Only read while the copies are right (segmentation
    keeps them by triggers): a drifted copy can leave a row out of a page, never show one outside the reader's
    scope."""

    def __init__(self, accounts, per_page, *, scores, order: str, ranges=None, **kwargs) -> None:
        """`ranges`: the same scores as the ranges of the indexes they are made of, when there are several
        (accounts.selectors.score_ranges_in_tier): a page is then the first rows of each, merged."""
        super().__init__(scores.order_by(*ONE_TIER_SCORE_KEYS[order]), per_page, **kwargs)
        self.accounts, self.order = accounts, order
        self.ranges = ranges if ranges and len(ranges) > 1 else None

    def rows(self, accounts) -> list:
        """The page's rows from its accounts' query (the accounts themselves, unless a subclass reads them another
        way)."""
        return list(accounts)

    def page(self, number):
        """One query: the page's ids, a range of the scores' index, as a subquery of the accounts read by id."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if self.ranges is None:
            ids = self.object_list.values("account_id")[bottom : bottom + self.per_page]
        else:
            ids = RawSQL(*self._merged_ids(bottom))  # noqa: S611  # nosec B611  # the ORM's own SQL; values are parameters
        page = self.accounts.filter(pk__in=ids).order_by(*ONE_TIER_ACCOUNT_KEYS[self.order])
        return self._get_page(self.rows(page), number, self)

    def _merged_ids(self, bottom: int) -> tuple[str, list]:
        """(SQL, params) of the page's ids from several ranges: the first `bottom` + a page of each, in the order, as
        a union (an account in two ranges is one row: the same id and score), then the page of the union."""
        keys = ONE_TIER_SCORE_KEYS[self.order]
        parts, params = [], []
        for n, scores in enumerate(self.ranges):
            first = scores.order_by(*keys).values_list("account_id", "unified")[: bottom + self.per_page]
            sql, part_params = first.query.sql_with_params()
            parts.append(f"SELECT * FROM ({sql}) AS range_{n}")  # noqa: S608  # nosec B608  # compiled by the ORM
            params += part_params
        order = ", ".join(f"{key.lstrip('-')} {'DESC' if key.startswith('-') else 'ASC'}" for key in keys)
        union = " UNION ".join(parts)
        # The ranges are the ORM's SQL, the order the keys of ONE_TIER_SCORE_KEYS; every value is a parameter.
        sql = f"SELECT account_id FROM ({union}) AS ranges ORDER BY {order} LIMIT %s OFFSET %s"  # noqa: S608  # nosec B608
        return sql, [*params, self.per_page, bottom]


class ScoreIndexPaginator(ScoreIndexPages, CappedCountPaginator):
    """The account list's pages of one tier in a score order (ScoreIndexPages), read as values (`account_rows`); its
    count (`known`: the tier's count in the reader's scope as the tier tiles and the API share it) capped as every
    list's is."""

    def rows(self, accounts) -> list:
        return account_rows(accounts)


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
    READS = ROW_VALUES[1:]

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
        "name": lambda r: r.name,
        "tier": lambda r: r.score_tier and TIER_LABELS.get(r.score_tier, r.score_tier),
        "unified": lambda r: None if r.score_unified is None else localize(r.score_unified),
        "expected_value": lambda r: _money(r.potential_expected_value),
        "industry": lambda r: r.industry,
        "country": lambda r: r.country,
        "employee_count": lambda r: _count(r.employee_count),
        "annual_revenue": lambda r: _money(r.annual_revenue),
        "owner": lambda r: r.owner_label,
        "territory": lambda r: r.territory_name,
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
            account = row.record if isinstance(row.record, AccountRow) else AccountRow.of(row.record)
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
