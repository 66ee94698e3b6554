"""Spend potential: what each account is expected to be worth, learned from the closed deals of scored accounts.

The rules (plain values in, plain values out, no ORM):

- band = the account's unified score band: 0-20, 20-40, 40-60, 60-80, 80-100; a lower bound belongs to its band
  (60 is in 60-80) and 100 is in the top band.
- win probability = (wins_band + K * p_all) / (closed_band + K), K = 20, where wins_band and closed_band count the
  closed opportunities of the accounts whose current score is in the band and p_all = wins / closed over all bands.
  The smoothing pulls a thin band toward the overall rate, so 2 wins of 2 deals does not claim 100%. A suppressed
  account (tier "suppress") gets 0: it is not to be pursued.
- deal size = the mean amount of the won deals (with an amount) of accounts in the same industry, when that industry
  has at least 5 of them; else the mean of all won deals with an amount. A blank industry is no industry.
- expected value = win probability x deal size (USD).

Accounts without a score get no row. With no closed deal (or no won deal with an amount) there is nothing to learn
from: no rows at all, and the service says so.

`potential_refresh` applies the rules to every account in a few set-based statements (aggregates for the band and
industry statistics, one INSERT ... SELECT upsert, one DELETE), so it costs the same few statements at a million
accounts; the tests prove the SQL equals the rules. Its result (the statistics) is kept on the job that ran it, so an
account's page can explain its number (`selectors.potential_basis`).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Opportunity
from core.tiers import SUPPRESS
from segmentation.models import AccountScore

from .models import AccountPotential

SMOOTHING_K = 20
MIN_INDUSTRY_DEALS = 5
# (lower bound, band), best first: an account is in the first band whose lower bound its unified score reaches.
BANDS = ((80, "80-100"), (60, "60-80"), (40, "40-60"), (20, "20-40"), (0, "0-20"))
BAND_NAMES = tuple(name for _, name in reversed(BANDS))  # lowest first, for tables
NO_DEALS = (
    "No closed deals of scored accounts yet: there is nothing to learn a win rate from, so no account has a spend "
    "potential."
)
NO_AMOUNTS = "No won deal has an amount yet: there is no deal size to expect, so no account has a spend potential."
# Serialises refreshes on PostgreSQL, so two runs never interleave their delete and upsert.
POTENTIAL_LOCK = 7_201_006


# --- The rules --------------------------------------------------------------------------------------------------


def band_of(unified: float) -> str:
    """The score band of a unified score: the first of 80-100, 60-80, 40-60, 20-40, 0-20 whose lower bound
    unified >= (so 60 -> "60-80", 100 -> "80-100"; anything below 0 -> "0-20")."""
    for lower, name in BANDS:
        if unified >= lower:
            return name
    return BANDS[-1][1]


def band_label(band: str) -> str:
    """The band as people write it: "60–80"."""
    return band.replace("-", "–")


def overall_win_rate(*, wins: int, closed: int) -> float | None:
    """p_all = wins / closed over every closed deal; None when nothing closed."""
    return wins / closed if closed else None


def win_probability(*, wins: int, closed: int, p_all: float, k: float = SMOOTHING_K, suppressed: bool = False) -> float:
    """(wins + k * p_all) / (closed + k): the band's win rate smoothed toward the overall rate p_all; 0 when the
    account is suppressed. A band with no closed deal gets p_all."""
    if suppressed:
        return 0.0
    return (wins + k * p_all) / (closed + k)


def deal_size(
    *,
    industry_won: int,
    industry_mean: float | None,
    overall_mean: float,
    min_deals: int = MIN_INDUSTRY_DEALS,
) -> float:
    """The industry's mean won deal when it has at least `min_deals` won deals with an amount, else the mean of all
    won deals (`overall_mean`)."""
    if industry_won >= min_deals and industry_mean is not None:
        return industry_mean
    return overall_mean


def expected_value(*, win_probability: float, deal_size: float) -> float:
    """win probability x deal size."""
    return win_probability * deal_size


def _money(value: float) -> str:
    return f"${value:,.0f}"


def potential_figures(*, win_probability: float, deal_size: float, expected_value: float) -> dict[str, str]:
    """The three numbers as the account page writes them (and as the sentences do): "64%", "$2,400", "$1,536"."""
    return {
        "win_probability": f"{win_probability:.0%}",
        "deal_size": _money(deal_size),
        "expected_value": _money(expected_value),
    }


def basis_sentences(
    *,
    band: str,
    band_won: int,
    band_closed: int,
    p_all: float,
    win_probability: float,
    suppressed: bool,
    industry: str,
    industry_won: int,
    deal_size: float,
    overall_won: int,
    min_deals: int = MIN_INDUSTRY_DEALS,
) -> list[str]:
    """The account's win probability and deal size in words, from the statistics they were computed from."""
    if suppressed:
        win = "Win probability 0%: the account is suppressed (excluded from the ICP), so no deal is expected."
    elif band_closed:
        win = (
            f"Win probability {win_probability:.0%}: accounts scoring {band_label(band)} won {band_won:,} of "
            f"{band_closed:,} closed deals (smoothed toward the overall {p_all:.0%})."
        )
    else:
        win = (
            f"Win probability {win_probability:.0%}: no account scoring {band_label(band)} has closed a deal yet, "
            "so it is the overall win rate."
        )
    if industry and industry_won >= min_deals:
        size = f"Deal size {_money(deal_size)}: mean of {industry_won:,} won deals in {industry}."
    else:
        why = (
            f"{industry} has {industry_won:,} won deal{'s' if industry_won != 1 else ''} with an amount, fewer than "
            f"{min_deals}"
            if industry
            else "no industry is recorded"
        )
        size = f"Deal size {_money(deal_size)}: mean of all {overall_won:,} won deals ({why})."
    return [win, size]


# --- Applying them to every account -----------------------------------------------------------------------------

OPPORTUNITY_TABLE = Opportunity._meta.db_table
ACCOUNT_TABLE = Account._meta.db_table
SCORE_TABLE = AccountScore._meta.db_table
POTENTIAL_TABLE = AccountPotential._meta.db_table
FLOAT = "DOUBLE PRECISION"  # PostgreSQL's float8; SQLite reads it as REAL


def _band_sql(column: str) -> str:
    """band_of() in SQL (constants only)."""
    whens = " ".join(f"WHEN {column} >= {lower} THEN '{name}'" for lower, name in BANDS[:-1])
    return f"CASE {whens} ELSE '{BANDS[-1][1]}' END"


def _statistics(cursor) -> dict:
    """Accounts, closed and won deals per band, and won deal amounts per industry (and so overall), in three
    aggregates."""
    cursor.execute(
        f"SELECT {_band_sql('s.unified')} AS band, COUNT(*) FROM {SCORE_TABLE} s "  # noqa: S608  # nosec B608  # model table names and constants only
        f"JOIN {ACCOUNT_TABLE} a ON a.id = s.account_id GROUP BY 1"
    )
    accounts = dict(cursor.fetchall())
    cursor.execute(
        f"SELECT {_band_sql('s.unified')} AS band, COUNT(*), SUM(CASE WHEN o.is_won THEN 1 ELSE 0 END) "  # noqa: S608  # nosec B608  # model table names and constants only
        f"FROM {OPPORTUNITY_TABLE} o JOIN {SCORE_TABLE} s ON s.account_id = o.account_id WHERE o.is_closed GROUP BY 1"
    )
    deals = {band: (int(closed), int(won or 0)) for band, closed, won in cursor.fetchall()}
    # Won deals with an amount of scored accounts, by industry (a blank industry too: it counts in the overall mean).
    cursor.execute(
        f"SELECT a.industry, COUNT(*), SUM(o.amount), CAST(AVG(o.amount) AS {FLOAT}) FROM {OPPORTUNITY_TABLE} o "  # noqa: S608  # nosec B608  # model table names and constants only
        f"JOIN {SCORE_TABLE} s ON s.account_id = o.account_id JOIN {ACCOUNT_TABLE} a ON a.id = o.account_id "
        "WHERE o.is_won AND o.amount IS NOT NULL GROUP BY a.industry"
    )
    industries, overall_won, overall_total = {}, 0, Decimal(0)
    for industry, won, total, mean in cursor.fetchall():
        overall_won += won
        overall_total += Decimal(str(total))  # exact on PostgreSQL (numeric); SQLite sums floats
        if industry:
            industries[industry] = {"won": int(won), "mean": float(mean)}
    return {
        "accounts": accounts,
        "deals": deals,
        "industries": industries,
        "overall_won": overall_won,
        "overall_mean": float(overall_total / overall_won) if overall_won else None,
    }


def _industry_table_sql() -> str:
    """A derived table (industry, deal_size) from one JSON parameter {industry: deal size}: any number of industries
    in one parameter."""
    if connection.vendor == "postgresql":
        return (
            "SELECT j.key AS industry, CAST(j.value AS DOUBLE PRECISION) AS deal_size "
            "FROM jsonb_each_text(CAST(%s AS jsonb)) j"
        )
    return "SELECT j.key AS industry, CAST(j.value AS REAL) AS deal_size FROM json_each(%s) j"


def _upsert(cursor, *, probabilities: dict[str, float], sizes: dict[str, float], overall_mean: float, now) -> int:
    """Every scored account's row from the band probabilities and the industries' deal sizes (those not in `sizes`
    get `overall_mean`), in one INSERT ... SELECT. Rows whose numbers did not change are left out before the insert,
    so a re-run writes (and locks) nothing. Returns the rows written."""
    by_band = " ".join(f"WHEN b.band = '{band}' THEN CAST(%s AS {FLOAT})" for band in BAND_NAMES)
    sql = (
        f"INSERT INTO {POTENTIAL_TABLE} "  # noqa: S608  # nosec B608  # model table names and constants; values are parameters
        "(account_id, win_probability, deal_size, expected_value, band, computed_at) "
        "SELECT x.account_id, x.win_probability, x.deal_size, x.win_probability * x.deal_size, x.band, %s FROM ("
        "  SELECT b.account_id, b.band,"
        f"    CASE WHEN b.tier = %s THEN CAST(0 AS {FLOAT}) {by_band} END AS win_probability,"
        f"    COALESCE(i.deal_size, CAST(%s AS {FLOAT})) AS deal_size"
        f"  FROM (SELECT s.account_id, s.tier, a.industry, {_band_sql('s.unified')} AS band"
        f"        FROM {SCORE_TABLE} s JOIN {ACCOUNT_TABLE} a ON a.id = s.account_id) b"
        f"  LEFT JOIN ({_industry_table_sql()}) i ON i.industry = b.industry"
        f") x LEFT JOIN {POTENTIAL_TABLE} p ON p.account_id = x.account_id "
        "WHERE p.account_id IS NULL OR p.win_probability <> x.win_probability OR p.deal_size <> x.deal_size "
        "OR p.band <> x.band "
        "ON CONFLICT (account_id) DO UPDATE SET win_probability = excluded.win_probability, "
        "deal_size = excluded.deal_size, expected_value = excluded.expected_value, band = excluded.band, "
        "computed_at = excluded.computed_at"
    )
    params = [
        connection.ops.adapt_datetimefield_value(now),
        SUPPRESS,
        *[probabilities[band] for band in BAND_NAMES],
        overall_mean,
        json.dumps(sizes),
    ]
    cursor.execute(sql, params)
    return max(cursor.rowcount, 0)


def _remove(cursor, *, everything: bool) -> int:
    """Delete the rows of accounts that no longer have a score (every row when `everything`)."""
    if everything:
        cursor.execute(f"DELETE FROM {POTENTIAL_TABLE}")  # noqa: S608  # nosec B608  # model table name only
    else:
        cursor.execute(
            f"DELETE FROM {POTENTIAL_TABLE} WHERE NOT EXISTS "  # noqa: S608  # nosec B608  # model table names only
            f"(SELECT 1 FROM {SCORE_TABLE} s WHERE s.account_id = {POTENTIAL_TABLE}.account_id)"
        )
    return max(cursor.rowcount, 0)


def _summary(result: dict) -> dict:
    """The job page's table: flat words and numbers."""
    summary = {"accounts": result["accounts"], "closed deals": result["closed"], "won deals": result["won"]}
    if result["p_all"] is not None:
        summary["overall win rate"] = f"{result['p_all']:.1%}"
    if result["deal_size"]["mean"] is not None:
        summary["overall deal size"] = _money(result["deal_size"]["mean"])
    for band in reversed(BAND_NAMES):
        stats = result["bands"][band]
        if stats["win_probability"] is not None:
            summary[f"band {band_label(band)}"] = (
                f"{stats['won']} won of {stats['closed']} closed -> {stats['win_probability']:.1%}"
            )
    summary["rows written"] = result["written"]
    summary["rows removed"] = result["removed"]
    return summary


def potential_refresh(*, now: dt.datetime | None = None) -> dict:
    """Recompute every scored account's spend potential in the database, in one transaction.

    Returns the statistics behind the numbers (JSON-ready, kept as the job's result): message, accounts, closed, won,
    p_all, bands {band: accounts, closed, won, win_probability}, deal_size {won, mean}, industries {industry: won,
    mean}, k, min_industry_deals, written, removed, computed_at, plus `summary` and `notes` for the job page.
    """
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [POTENTIAL_LOCK])
            cursor.execute("SET LOCAL work_mem = '64MB'")  # the million-row joins hash in memory
            cursor.execute("SET LOCAL jit = off")  # compiling costs more than it saves here
        stats = _statistics(cursor)
        closed = sum(c for c, _ in stats["deals"].values())
        won = sum(w for _, w in stats["deals"].values())
        p_all = overall_win_rate(wins=won, closed=closed)
        bands = {}
        for band in BAND_NAMES:
            band_closed, band_won = stats["deals"].get(band, (0, 0))
            bands[band] = {
                "accounts": stats["accounts"].get(band, 0),
                "closed": band_closed,
                "won": band_won,
                "win_probability": None
                if p_all is None
                else win_probability(wins=band_won, closed=band_closed, p_all=p_all),
            }
        if p_all is None or stats["overall_mean"] is None:  # nothing to learn from
            message, written = (NO_DEALS if p_all is None else NO_AMOUNTS), 0
            removed = _remove(cursor, everything=True)
        else:
            probabilities = {band: bands[band]["win_probability"] for band in BAND_NAMES}
            overall_mean = stats["overall_mean"]
            sizes = {
                industry: deal_size(industry_won=row["won"], industry_mean=row["mean"], overall_mean=overall_mean)
                for industry, row in stats["industries"].items()
            }
            written = _upsert(
                cursor,
                probabilities=probabilities,
                sizes=sizes,
                overall_mean=overall_mean,
                now=now,
            )
            removed = _remove(cursor, everything=False)
            message = (
                f"Spend potential of {sum(stats['accounts'].values()):,} accounts, from {closed:,} closed deals "
                f"({won:,} won: overall win rate {p_all:.0%}) and {stats['overall_won']:,} won deal amounts."
            )
    learned = p_all is not None and stats["overall_mean"] is not None
    accounts = sum(stats["accounts"].values()) if learned else 0
    result = {
        "message": message,
        "accounts": accounts,
        "closed": closed,
        "won": won,
        "p_all": p_all,
        "bands": bands,
        "deal_size": {"won": stats["overall_won"], "mean": stats["overall_mean"]},
        "industries": stats["industries"],
        "k": SMOOTHING_K,
        "min_industry_deals": MIN_INDUSTRY_DEALS,
        "written": written,
        "removed": removed,
        "computed_at": now.isoformat(),
    }
    result["summary"] = _summary(result)
    result["notes"] = [message]
    return result
