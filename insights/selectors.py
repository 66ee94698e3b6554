"""Reads of spend potential: totals by segment, and an account's potential explained from its refresh's statistics."""

from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Count, F, QuerySet, Sum
from django.db.models.fields.json import KeyTransform

from accounts.models import Account
from accounts.selectors import account_list, covered_ids, opportunity_list
from core.models import Job
from core.roles import ADMIN, MANAGER, REP
from core.summaries import counted
from core.tiers import LABELS as TIER_LABELS

from .models import AccountPotential
from .potential import MIN_INDUSTRY_DEALS, basis_sentences, deal_size

# group_by -> (the key's path from Account, extra label paths, the label of "no key")
POTENTIAL_GROUPS = {
    "territory": ("territory_id", ("territory__name",), "No territory"),
    "tier": ("score__tier", (), "Not scored"),
    "industry": ("industry", (), "No industry"),
    "owner": ("owner_id", ("owner__first_name", "owner__last_name", "owner__username"), "Unassigned"),
    "country": ("country", (), "No country"),
}


def _potential_label(group_by: str, row: dict) -> str:
    key = row["key"]
    if key in (None, ""):
        return POTENTIAL_GROUPS[group_by][2]
    if group_by == "territory":
        return row["territory__name"]
    if group_by == "tier":
        return TIER_LABELS.get(key, key)
    if group_by == "owner":
        return f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"]
    return key


def potential_totals(*, accounts: QuerySet[Account], group_by: str) -> list[dict]:
    """Spend potential summed per group of `accounts` (already scoped to the reader): [{key, label, accounts,
    expected_value (sum), win_probability (mean)}], largest expected value first, in one aggregate query.

    `group_by`: territory, tier, industry, owner or country. Only accounts with a potential count (`accounts` is
    the sample behind both numbers); `potential_grand_total(rows=...)` adds the rows up without another query.
    """
    if group_by not in POTENTIAL_GROUPS:
        raise ValueError(f"Group by one of {', '.join(POTENTIAL_GROUPS)}, not {group_by!r}.")
    key, labels, _ = POTENTIAL_GROUPS[group_by]
    rows = (
        accounts.filter(potential__isnull=False)
        .order_by()
        .values(*labels, key=F(key))
        .annotate(
            accounts=Count("pk"),
            expected_value=Sum("potential__expected_value"),
            win_probability=Avg("potential__win_probability"),
        )
    )
    totals = [
        {
            "key": row["key"],
            "label": _potential_label(group_by, row),
            "accounts": row["accounts"],
            "expected_value": row["expected_value"] or 0.0,
            "win_probability": row["win_probability"] or 0.0,
        }
        for row in rows
    ]
    return sorted(totals, key=lambda row: (-row["expected_value"], row["label"]))


def potential_grand_total(*, rows: list[dict]) -> dict:
    """The total of `potential_totals` rows: accounts and expected value summed, the win probability the mean over
    every account (each row's mean weighted by its accounts)."""
    accounts = sum(row["accounts"] for row in rows)
    return {
        "key": None,
        "label": "Total",
        "accounts": accounts,
        "expected_value": sum(row["expected_value"] for row in rows),
        "win_probability": sum(row["win_probability"] * row["accounts"] for row in rows) / accounts
        if accounts
        else 0.0,
    }


def _latest_potential_job() -> QuerySet[Job]:
    return Job.objects.filter(kind=Job.Kind.POTENTIAL, status=Job.Status.SUCCEEDED).order_by("-finished_at", "-pk")


def potential_basis(*, potential: AccountPotential, industry: str) -> dict | None:
    """{sentences, computed_at}: an account's win probability and deal size explained from the statistics of the
    refresh that computed them (kept on its job), in one query reading only the keys it needs; None when no refresh
    recorded them, or the statistics no longer match the numbers (the account changed industry since)."""
    result = KeyTransform
    fields = {
        "band": result(potential.band, result("bands", "result")),
        "p_all": result("p_all", "result"),
        "overall_won": result("won", result("deal_size", "result")),
        "overall_mean": result("mean", result("deal_size", "result")),
        "min_deals": result("min_industry_deals", "result"),
        "computed_at": result("computed_at", "result"),
    }
    if industry:
        fields["industry"] = result(industry, result("industries", "result"))
    stats = _latest_potential_job().values(**fields).first()
    if not stats or not stats["band"] or stats["p_all"] is None or stats["overall_mean"] is None:
        return None
    band, industry_stats = stats["band"], stats.get("industry") or {"won": 0, "mean": None}
    min_deals = stats["min_deals"] or MIN_INDUSTRY_DEALS
    size = deal_size(
        industry_won=industry_stats["won"],
        industry_mean=industry_stats["mean"],
        overall_mean=stats["overall_mean"],
        min_deals=min_deals,
    )
    # A stored 0 where the band's smoothed rate is above 0: the account was suppressed when computed.
    suppressed = potential.win_probability == 0 and (band["win_probability"] or 0) > 0
    matches = abs(size - potential.deal_size) <= 1e-6 * max(1.0, abs(size)) and (
        suppressed or abs(band["win_probability"] - potential.win_probability) <= 1e-9
    )
    if not matches:
        return None
    sentences = basis_sentences(
        band=potential.band,
        band_won=band["won"],
        band_closed=band["closed"],
        p_all=stats["p_all"],
        win_probability=potential.win_probability,
        suppressed=suppressed,
        industry=industry,
        industry_won=industry_stats["won"],
        deal_size=potential.deal_size,
        overall_won=stats["overall_won"],
        min_deals=min_deals,
    )
    computed_at = dt.datetime.fromisoformat(stats["computed_at"]) if stats["computed_at"] else None
    return {"sentences": sentences, "computed_at": computed_at}


def home_counts(user, role: str) -> tuple[dict[str, int], object]:
    """(the home page's tiles: accounts the user can see, open opportunities among them and, for an admin, accounts in
    no territory; when they were counted). Each is a count over a scope of up to every account (a million: tens of
    milliseconds each), so they are shared for COUNTS_CACHE_SECONDS by every reader of the same scope (core/summaries):
    every admin; the managers of the same territories; a rep alone (they also see what they own elsewhere)."""
    accounts = account_list(user=user)

    def compute() -> dict[str, int]:
        counts = {
            "account_count": accounts.count(),
            "open_opportunities": opportunity_list(user=user).filter(is_closed=False).count(),
        }
        if role == ADMIN:
            counts["unrouted_count"] = accounts.filter(territory__isnull=True).count()
        return counts

    scope = {ADMIN: (ADMIN,), MANAGER: (MANAGER, sorted(covered_ids(user))), REP: (REP, user.pk)}[role]
    return counted("home", scope, compute)
