"""What each KPI is: its name, unit, definition in plain words and the splits it offers."""

from __future__ import annotations

from dataclasses import dataclass

PERCENT, SCORE, USD, R, COUNT, RATIO = "percent", "score", "usd", "r", "count", "ratio"
SEGMENTS = {"tier": "Tier", "industry": "Industry", "territory": "Territory", "owner": "Owner", "country": "Country"}
BANDS = [(0, 20), (20, 40), (40, 60), (60, 80), (80, 100)]
# Below this sample a 95% interval is too wide to read anything from: the pages say "too few to say" instead.
MIN_INTERVAL_N = 10
NONE_LABEL = "(none)"


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str
    unit: str
    definition: str
    # Which segments make sense: the five of SEGMENTS, or a fixed breakdown the KPI always shows (bands, tiers...).
    segments: tuple[str, ...] = tuple(SEGMENTS)
    breakdown: str = ""  # the fixed breakdown's name when it has one
    uses_period: bool = True
    shares_of: str = ""  # for a breakdown into shares of a whole (adding up to 100%): what the whole counts


DEAL_TERRITORY = (
    "By territory a deal counts for the team of the rep who owns it (their territory), or for its account's territory "
    "when its owner is no territory's rep; by owner, for the deal's owner."
)

KPIS: dict[str, Kpi] = {
    k.key: k
    for k in [
        Kpi(
            "engagement",
            "Account engagement index",
            SCORE,
            "The mean signal score (0-100) of the scored accounts: each account's engagement and intent signals "
            "(visits, downloads, clicks, events, meetings, third-party intent...), decayed by age and capped per kind "
            "by the active scoring model. It describes the accounts as they are now; the trend comes from the daily "
            "snapshots.",
            uses_period=False,
        ),
        Kpi(
            "accuracy",
            "Scoring accuracy",
            R,
            "Whether scores track revenue: Pearson's correlation between each account's unified score and the amount "
            "it won in the period, over the accounts with a deal closed in the period (won or lost). +1: revenue rises "
            "with the score; 0: no relation. It uses each account's current score.",
        ),
        Kpi(
            "conversion",
            "Conversion rate by score band",
            PERCENT,
            "Of the scored accounts with a deal closed in the period (won or lost), in each band of unified score, the "
            "share that won at least one of the deals closed in the period. Accounts with no deal closed in the period "
            "are not counted, however high they score: they had no chance to convert. Over all time every closed deal "
            "counts, including those without a close date. If the top bands do not convert better than the bottom "
            "ones, the thresholds mean little.",
            segments=(),
            breakdown="Score band",
        ),
        Kpi(
            "icp_match",
            "ICP match %",
            PERCENT,
            "The share of scored accounts whose fit score reaches the active model's Tier 2 minimum fit and that no "
            "exclusion suppresses: the accounts the ICP says are worth working.",
            uses_period=False,
        ),
        Kpi(
            "clv",
            "Customer lifetime value",
            USD,
            "The mean of what each customer has won with us: the amounts of all its won deals closed up to the end "
            "of the period, added up. Customers are the accounts with at least one such deal.",
        ),
        Kpi(
            "pipeline",
            "Pipeline coverage",
            RATIO,
            "Open pipeline, the amounts of the deals not closed yet, against quota: coverage = pipeline / the quotas "
            "whose period overlaps the chosen one, read as a multiple (3× is a common target). Quotas are set per "
            "territory, so coverage is measured for everyone, a territory, or a manager's territories; with no quota "
            "over the period there is no coverage to show. Open deals without an amount are counted but add nothing. "
            + DEAL_TERRITORY,
        ),
        Kpi(
            "mqa_rate",
            "MQA %",
            PERCENT,
            "The share of scored accounts that became marketing-qualified accounts (an MQA raised) in the period.",
        ),
        Kpi(
            "saa_rate",
            "SAA %",
            PERCENT,
            "Of the MQAs raised in the period that sales has decided, the share accepted: accepted / (accepted + "
            "rejected). MQAs still open, or closed without a decision, are left out. By tier, the tier at "
            "qualification.",
        ),
        Kpi(
            "score_to_win",
            "Score-to-win correlation",
            R,
            "How well the score predicts wins: the (point-biserial) correlation between the account's unified score "
            "and the outcome of each deal closed in the period (won = 1, lost = 0). It uses each account's current "
            "score. " + DEAL_TERRITORY,
        ),
        Kpi(
            "win_rate",
            "Win rate",
            PERCENT,
            "Won deals / closed deals (won + lost), over the deals closed in the period. " + DEAL_TERRITORY,
        ),
        Kpi(
            "tier_distribution",
            "Tier distribution",
            PERCENT,
            "The share of the scored accounts that sits in each tier now (all tiers together make 100%), with how many "
            "accounts that is.",
            segments=(),
            breakdown="Tier",
            uses_period=False,
            shares_of="accounts",
        ),
        Kpi(
            "tier_movement",
            "Tier movement",
            COUNT,
            "How many accounts moved from one tier to another in the period, by move.",
            segments=(),
            breakdown="Move",
        ),
        Kpi(
            "sla_compliance",
            "SLA compliance",
            PERCENT,
            "Of the handoffs assigned in the period whose SLA outcome is settled (decided, breached or past due), "
            "the share decided by their deadline.",
            segments=("tier", "owner"),
        ),
        Kpi(
            "rejection_reasons",
            "Rejection reasons",
            PERCENT,
            "Why sales rejected the handoffs assigned in the period: each reason's share of the rejections (all "
            "reasons together make 100%), with how many rejections that is.",
            segments=(),
            breakdown="Reason",
            shares_of="rejections",
        ),
        Kpi(
            "spend_potential",
            "Spend potential",
            USD,
            "What the accounts are expected to be worth: the sum of each account's win probability x expected deal "
            "size (see an account's page for how its number is made). It describes the accounts as they are now.",
            segments=("territory", "tier", "industry", "owner", "country"),
            uses_period=False,
        ),
    ]
}
