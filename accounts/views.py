from django.shortcuts import render
from django_tables2 import RequestConfig

from core.csvexport import table_csv
from core.decorators import role_required
from segmentation.explain import explain, signal_contributions
from segmentation.models import AccountScore
from segmentation.plays import play_for_tier
from segmentation.potential import potential_figures
from segmentation.selectors import account_mqas, account_tier_changes, potential_basis
from territories.selectors import can_assign_in, territory_member_choices

from .filters import AccountFilter
from .selectors import access_account, account_list
from .tables import AccountTable

PAGE_SIZE = 50
DETAIL_ROWS = 100
TIMELINE_ROWS = 50
# Why a tier is held above a worse candidate, by flag; both show as one "Held in tier" badge.
HELD_REASONS = {
    "hysteresis": "its scores are still above the tier's exit thresholds",
    "min_days": "it has been in the tier for less than the minimum time",
}
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


def _filtered_accounts(request):
    queryset = account_list(user=request.user).select_related("owner", "territory", "score", "potential")
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
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    export_query = request.GET.urlencode()
    return render(
        request,
        "accounts/account_list.html",
        {"filter": account_filter, "table": table, "export_query": export_query},
    )


@role_required()
def account_export(request):
    """The filtered list as CSV in the page's order (by name unless sorted), streamed so a large export does not sit
    in memory."""
    rows = _rows(_filtered_accounts(request)).order_by("name", "id")
    return table_csv(request, AccountTable(rows), columns=EXPORT_COLUMNS, filename="accounts.csv")


def _owner_choices(user, account) -> list[tuple[int, str]] | None:
    """Members the user may give this account to; None when they may not reassign it."""
    if not can_assign_in(user=user, territory_id=account.territory_id):
        return None
    return territory_member_choices(territory_id=account.territory_id)


def _flag_badges(score) -> list[dict]:
    """Badges for the rules that hold the account's tier beyond its thresholds, in words."""
    flags = set(score.flags or []) if score else set()
    badges = []
    if "surge" in flags:
        until = f" until {score.surge_until:%Y-%m-%d}" if score.surge_until else ""
        badges.append(
            {
                "text": f"Surge{until}",
                "css": "text-bg-warning",
                "title": "Signals jumped: placed one tier above its candidate while the surge lasts.",
            }
        )
    if "capacity" in flags:
        badges.append(
            {
                "text": "Held at Tier 2: territory Tier 1 capacity full",
                "css": "text-bg-info",
                "title": "Its territory's Tier 1 places are taken by higher-scoring accounts.",
            }
        )
    held = [why for flag, why in HELD_REASONS.items() if flag in flags]
    if held:
        badges.append(
            {"text": "Held in tier", "css": "text-bg-secondary", "title": "Kept in its tier: " + "; ".join(held) + "."}
        )
    return badges


@role_required()
def account_detail(request, account_id: int):
    account = access_account(user=request.user, account_id=account_id)
    signals = account.signals.select_related("contact").order_by("-occurred_at", "-id")
    # The spend potential comes with the score (no row without one), in the same query.
    score = AccountScore.objects.select_related("model__icp", "account__potential").filter(account=account).first()
    potential = getattr(score.account, "potential", None) if score else None
    shown_signals = list(signals[:DETAIL_ROWS])
    opportunities = account.opportunities.select_related("owner").order_by("-closed_on", "-engaged_on", "-id")
    tier_changes, more_tier_changes = account_tier_changes(account=account, limit=TIMELINE_ROWS)
    mqas, more_mqas = account_mqas(account=account, limit=TIMELINE_ROWS)
    context = {
        "account": account,
        "subsidiaries": account_list(user=request.user).filter(parent=account).order_by("name"),
        "contacts": account.contacts.order_by("persona", "name"),
        "score": score,
        "explanation": explain(score) if score else None,
        # Each signal's points as of the stored score, so they add up to the numbers shown beside them.
        "signals": signal_contributions(score, shown_signals, score.as_of)
        if score
        else [{"signal": s, "points": None} for s in shown_signals],
        "signal_count": signals.count(),
        "opportunities": opportunities[:DETAIL_ROWS],
        "opportunity_count": opportunities.count(),
        "detail_rows": DETAIL_ROWS,
        "owner_choices": _owner_choices(request.user, account),
        "ownership_changes": account.ownership_changes.select_related("from_owner", "to_owner", "changed_by")[:20],
        "play": play_for_tier(tier=score.tier) if score else None,
        "potential": potential,
        "potential_figures": potential_figures(
            win_probability=potential.win_probability,
            deal_size=potential.deal_size,
            expected_value=potential.expected_value,
        )
        if potential
        else None,
        "potential_basis": potential_basis(potential=potential, industry=account.industry) if potential else None,
        "flag_badges": _flag_badges(score),
        "tier_changes": tier_changes,
        "more_tier_changes": more_tier_changes,
        "mqas": mqas,
        "more_mqas": more_mqas,
        "timeline_rows": TIMELINE_ROWS,
    }
    return render(request, "accounts/account_detail.html", context)
