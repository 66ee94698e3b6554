from django.shortcuts import render
from django_tables2 import RequestConfig

from core.csvexport import table_csv
from core.decorators import role_required
from core.pagination import CappedCountPaginator

from .filters import AccountFilter
from .selectors import access_account, account_list, scored_account_list, visible_parent
from .tables import AccountTable

PAGE_SIZE = 50
DETAIL_ROWS = 100
EXPORT_COLUMNS = [
    ("id", "id"),
    ("external_id", "external_id"),
    ("name", "name"),
    ("domain", "domain"),
    ("industry", "industry"),
    ("employee_count", "employee_count"),
    ("annual_revenue", "annual_revenue"),
    ("country", "country"),
    ("region", "region"),
    ("city", "city"),
    ("owner", "owner__username"),
    ("territory", "territory__name"),
    ("win_probability", "potential__win_probability"),
    ("deal_size", "potential__deal_size"),
    ("expected_value", "potential__expected_value"),
]


def _reads_scores(request) -> bool:
    """A list filtered by tier or sorted by score holds scored accounts only."""
    return bool(request.GET.get("tier")) or request.GET.get("sort", "").lstrip("-") == "unified"


def _filtered_accounts(request):
    scope = scored_account_list if _reads_scores(request) else account_list
    queryset = scope(user=request.user).select_related("owner", "territory", "score", "potential")
    return AccountFilter(request.GET or None, queryset=queryset, user=request.user)


def _rows(account_filter):
    # A filter that does not validate (e.g. a territory outside the scope) shows nothing, never "everything".
    if account_filter.is_bound and not account_filter.is_valid():
        return account_filter.queryset.none()
    return account_filter.qs


@role_required()
def account_index(request):
    account_filter = _filtered_accounts(request)
    table = AccountTable(_rows(account_filter))
    RequestConfig(request, paginate={"per_page": PAGE_SIZE, "paginator_class": CappedCountPaginator}).configure(table)
    export_query = request.GET.urlencode()
    return render(
        request,
        "accounts/account_list.html",
        {
            "filter": account_filter,
            "table": table,
            "export_query": export_query,
            "sorted_by_score": request.GET.get("sort", "").lstrip("-") == "unified",
        },
    )


@role_required()
def account_export(request):
    """The filtered list as CSV in the page's order (by name unless sorted), streamed so a large export does not sit
    in memory."""
    rows = _rows(_filtered_accounts(request)).order_by("name", "id")
    return table_csv(request, AccountTable(rows), columns=EXPORT_COLUMNS, filename="accounts.csv")


@role_required()
def account_detail(request, account_id: int):
    """An account with what hangs off it. What the apps above accounts know of it (its score, who may reassign it,
    its spend potential) the page's template loads through their tags: score_tags, territory_tags, potential_tags."""
    account = access_account(user=request.user, account_id=account_id)
    signals = account.signals.select_related("contact").order_by("-occurred_at", "-id")
    opportunities = account.opportunities.select_related("owner").order_by("-closed_on", "-engaged_on", "-id")
    context = {
        "account": account,
        "parent": visible_parent(user=request.user, account=account),
        "subsidiaries": account_list(user=request.user).filter(parent=account).order_by("name"),
        "contacts": account.contacts.order_by("persona", "name"),
        "signals": list(signals[:DETAIL_ROWS]),
        "signal_count": signals.count(),
        "opportunities": opportunities[:DETAIL_ROWS],
        "opportunity_count": opportunities.count(),
        "detail_rows": DETAIL_ROWS,
    }
    return render(request, "accounts/account_detail.html", context)
