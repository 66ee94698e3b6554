from django.contrib import messages
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.csvexport import streamed_csv
from core.decorators import role_required
from core.pagination import CappedCountPaginator
from core.roles import ADMIN
from core.tiers import LABELS as TIER_LABELS

from .filters import AccountFilter
from .selectors import (
    access_account,
    account_list,
    account_topic_surges,
    coverage_remember,
    one_tier_scores,
    scored_count,
    scored_subset,
    visible_parent,
)
from .services import topic_surges_job_start
from .tables import (
    ONE_TIER_SCORE_KEYS,
    AccountTable,
    ScoredFirstPaginator,
    ScoreIndexPaginator,
    person_label,
)
from .topics import SurgeRules, rules_sentence, surge_sentence

PAGE_SIZE = 50
DETAIL_ROWS = 100
DETAIL_OPPORTUNITIES = 10  # on the account page; the rest on its opportunities page
# What the account page's parts from the apps above read of the account (their one-to-one relations), joined to it.
DETAIL_JOINED = ("score__model__icp", "potential", "lookalike_reasons")
OPPORTUNITY_PAGE_SIZE = 50


def _number(value):
    """A number as a spreadsheet reads it: no thousands separators, whole when it is whole."""
    if value is None:
        return ""
    return f"{value:.0f}" if float(value) == int(value) else f"{value}"


def _score(value):
    return "" if value is None else f"{value:.1f}"


def _whole(value):
    return "" if value is None else f"{value:.0f}"


def _percent(value):
    return "" if value is None else f"{100 * value:.0f}%"


def _text(value) -> str:
    return "" if value is None else str(value)


# The CSV export: the page's columns first, in the page's order and under the same headers, then what else is known.
# Each entry: (header, the fields it reads, how it is written). Amounts are whole USD and numbers carry no separators,
# so a spreadsheet reads them as numbers.
EXPORT_COLUMNS = [
    ("Name", ("name",), _text),
    ("Tier", ("score__tier",), lambda tier: TIER_LABELS.get(tier, tier) if tier else ""),
    ("Score", ("score__unified",), _score),
    ("Expected value (USD)", ("potential__expected_value",), _whole),
    ("Industry", ("industry",), _text),
    ("Country", ("country",), _text),
    ("Employees", ("employee_count",), _number),
    ("Annual revenue (USD)", ("annual_revenue",), _whole),
    ("Owner", ("owner__first_name", "owner__last_name", "owner__username"), person_label),
    ("Territory", ("territory__name",), _text),
    ("Fit", ("score__fit",), _score),
    ("Signal", ("score__signal",), _score),
    ("Domain", ("domain",), _text),
    ("Account ID", ("external_id",), _text),
    ("Region", ("region",), _text),
    ("City", ("city",), _text),
    ("Win probability", ("potential__win_probability",), _percent),
    ("Deal size (USD)", ("potential__deal_size",), _whole),
    ("ID", ("id",), _text),
]


def _rows(account_filter):
    # A filter that does not validate (e.g. a territory outside the scope) shows nothing, never "everything".
    if account_filter.is_bound and not account_filter.is_valid():
        return account_filter.queryset.none()
    return account_filter.qs


class Listing:
    """The account list as the request asks: its filter, its order (`?sort=`, else the score, best first) and the
    rows in that order. In a score order the rows are two parts, each read from its own index: the scored accounts in
    that order, then those not scored yet, by name (none when a tier is asked for). One tier in a score order, with
    nothing else asked, is paged from the scores' index alone (ScoreIndexPaginator)."""

    # The parameters of a list that asks for one tier and nothing else.
    ONE_TIER = frozenset({"tier", "sort", "page"})

    def __init__(self, request) -> None:
        user = request.user
        self.user = user
        self.order, self.requested = AccountTable.sort_of(request.GET.get("sort"))
        accounts = (
            account_list(user=user).select_related("owner", "territory", "score", "potential").only(*AccountTable.READS)
        )
        self.filter = AccountFilter(request.GET or None, queryset=accounts, user=user)
        rows = _rows(self.filter)
        by_tier = bool(request.GET.get("tier")) and self.filter.is_valid()
        asked = {name for name, value in request.GET.items() if value}
        self.one_tier = (
            request.GET.get("tier")
            if by_tier and asked <= self.ONE_TIER and self.order in ONE_TIER_SCORE_KEYS
            else None
        )
        self.accounts = rows
        if by_tier:
            rows = scored_subset(rows, user=user)  # the scope read from the scores' indexes too
        self.every = rows
        if AccountTable.reads_scores(self.order):
            # The table puts the scored accounts in the score order (AccountTable.order_unified, order_tier): its
            # queryset is the scored part, once.
            scored = rows if by_tier else scored_subset(rows, user=user)
            self.table = AccountTable(scored, order_by=self.order, sort_requested=self.requested)
            self.scored = self.table.data.data
            self.unscored = None if by_tier else rows.filter(score__isnull=True).order_by("name", "pk")
        else:
            self.scored = self.unscored = None
            self.table = AccountTable(rows, order_by=self.order, sort_requested=self.requested)

    def paginate(self, request) -> None:
        table = self.table
        table.request = request
        try:
            number = int(request.GET.get("page", 1))
        except ValueError:
            number = 1
        if self.one_tier:
            table.paginator = ScoreIndexPaginator(
                self.accounts,
                PAGE_SIZE,
                **one_tier_scores(user=self.user, tier=self.one_tier),
                order=self.order,
                # Counted as the API's list of the same tier counts it: shared by the readers of the same scope for
                # COUNTS_CACHE_SECONDS, where a capped count on every page walked up to 10,001 index entries.
                known=scored_count(user=self.user, tier=self.one_tier),
            )
        elif self.scored is not None:
            table.paginator = ScoredFirstPaginator(
                self.scored, unscored=self.unscored, every=self.every, per_page=PAGE_SIZE
            )
        else:
            table.paginator = CappedCountPaginator(table.rows, PAGE_SIZE)
        try:
            table.page = table.paginator.page(number)
        except PageNotAnInteger:
            table.page = table.paginator.page(1)
        except EmptyPage:
            table.page = table.paginator.page(table.paginator.num_pages)

    def querysets(self) -> list:
        """The rows in the list's order, as the querysets that read them one after the other."""
        if self.scored is None:
            return [self.table.data.data]
        return [self.scored] if self.unscored is None else [self.scored, self.unscored]


@role_required()
def account_index(request):
    coverage_remember(request.user)
    listing = Listing(request)
    listing.paginate(request)
    order = listing.table.order_by[0]
    return render(
        request,
        "accounts/account_list.html",
        {
            "filter": listing.filter,
            "table": listing.table,
            "export_query": request.GET.urlencode(),
            "sorted_by_score": AccountTable.reads_scores(listing.order),
            "order": order,
            "unscored_follow": listing.unscored is not None,
        },
    )


@role_required()
def account_export(request):
    """The list as CSV: the page's filters and order, every matching row, streamed so a large export does not sit in
    memory."""
    coverage_remember(request.user)
    listing = Listing(request)
    fields = [field for _, names, _ in EXPORT_COLUMNS for field in names]

    def formatted(row):
        cells, at = [], 0
        for _, names, write in EXPORT_COLUMNS:
            cells.append(write(*row[at : at + len(names)]))
            at += len(names)
        return cells

    def rows():
        for queryset in listing.querysets():
            for row in queryset.values_list(*fields).iterator(chunk_size=2000):
                yield formatted(row)

    return streamed_csv(filename="accounts.csv", header=[header for header, _, _ in EXPORT_COLUMNS], rows=rows())


@role_required()
def account_detail(request, account_id: int):
    """An account with what hangs off it. What the apps above accounts know of it (its score, who may reassign it,
    its spend potential) the page's template loads through their tags: score_tags, territory_tags, potential_tags."""
    coverage_remember(request.user)  # the user's territories looked up once for the page's parts
    # Its score (with the model and ICP that explain it), spend potential and lookalike reasons read with it, in one
    # query: the tags of the apps above read them from the account (accounts.tables.loaded_or) instead of asking.
    account = access_account(user=request.user, account_id=account_id, joined=DETAIL_JOINED, subsidiaries_known=True)
    signals, signal_count = _latest(
        account.signals.select_related("contact").order_by("-occurred_at", "-id"), DETAIL_ROWS
    )
    opportunities, opportunity_count = _latest(
        account.opportunities.select_related("owner").order_by("-closed_on", "-engaged_on", "-id"), DETAIL_OPPORTUNITIES
    )
    context = {
        "account": account,
        "parent": visible_parent(user=request.user, account=account),
        "subsidiaries": account_list(user=request.user).filter(parent=account).order_by("name"),
        "contacts": account.contacts.order_by("persona", "name"),
        "signals": signals,
        "signal_count": signal_count,
        "opportunities": opportunities,
        "opportunity_count": opportunity_count,
        "detail_rows": DETAIL_ROWS,
        "detail_opportunities": DETAIL_OPPORTUNITIES,
        **_topics(account),
    }
    return render(request, "accounts/account_detail.html", context)


def _latest(queryset, shown: int) -> tuple[list, int]:
    """(the first `shown` rows of `queryset`, how many it holds): counted only when there are more than `shown`, so
    an account with a short history costs one query here, not two."""
    rows = list(queryset[: shown + 1])
    if len(rows) <= shown:
        return rows, len(rows)
    return rows[:shown], queryset.count()


def _topics(account) -> dict:
    """The account's intent topics in words, surging ones first, and the rule that decides a surge."""
    rules = SurgeRules.current()
    surges = account_topic_surges(account=account)
    return {
        "topics": [{"surge": s, "sentence": surge_sentence(s, rules)} for s in surges],
        "topics_rule": rules_sentence(rules),
        "topics_computed_at": max((s.computed_at for s in surges), default=None),
    }


@require_POST
@role_required(ADMIN)
def topic_refresh(request):
    """Recompute every account's topic surges now (beat does it nightly); the job page follows it."""
    job = topic_surges_job_start(user=request.user)
    messages.info(request, "Topic surges are being recomputed; this page follows the job.")
    return redirect("job-detail", job_id=job.pk)


@role_required()
def account_opportunities(request, account_id: int):
    """Every opportunity of an account (its page shows the latest few), newest first, a page at a time."""
    account = access_account(user=request.user, account_id=account_id)
    opportunities = account.opportunities.select_related("owner").order_by("-closed_on", "-engaged_on", "-id")
    page = Paginator(opportunities, OPPORTUNITY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/account_opportunities.html", {"account": account, "page": page})
