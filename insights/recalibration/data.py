"""What recalibration reads: the closed deals, their accounts' attributes and signals as of each close, as the
feature matrix."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from accounts.criteria import VALUE_COLUMNS, account_values, as_number, criterion_from_dict, criterion_matches
from accounts.models import Account, Opportunity, Signal
from core.stats import wilson_interval
from segmentation.scoring import SignalEvent, SignalRule, signal_score

from .maths import (
    BAND_ATTRIBUTES,
    EQ_ATTRIBUTES,
    MAX_DEALS,
    MIN_SUPPORT,
    QUERY_CHUNK,
    SCORE_BANDS,
    attribute_label,
    band_criteria,
    criterion_key,
    criterion_text,
)

# --- Reading the data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    """One column: a criterion (0/1 match) or a signal kind (points as of the close date)."""

    kind: str  # "criterion" or "signal"
    label: str
    source: str  # "active model", "candidate" or "signal rule"
    criterion: dict | None = None
    signal_kind: str | None = None


@dataclass
class DealSet:
    """The closed deals, one row each, and what the report says about how they were chosen."""

    deal_ids: list[int]
    account_ids: list[int]
    won: np.ndarray
    closed_on: list[dt.date]
    unified: list[float | None]  # the account's current unified score
    without_close_date: int
    capped: bool


def closed_deals(*, limit: int = MAX_DEALS) -> DealSet:
    """The most recently closed deals with a close date (at most `limit`), newest first."""
    closed = Opportunity.objects.filter(is_closed=True)
    rows = list(
        closed.filter(closed_on__isnull=False)
        .order_by("-closed_on", "-id")
        .values_list("id", "account_id", "is_won", "closed_on", "account__score__unified")[: limit + 1]
    )
    capped = len(rows) > limit
    rows = rows[:limit]
    return DealSet(
        deal_ids=[r[0] for r in rows],
        account_ids=[r[1] for r in rows],
        won=np.array([bool(r[2]) for r in rows], dtype=bool),
        closed_on=[r[3] for r in rows],
        unified=[r[4] for r in rows],
        without_close_date=closed.filter(closed_on__isnull=True).count(),
        capped=capped,
    )


def _chunks(items: list, size: int = QUERY_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _account_values(account_ids: list[int], attributes: set[str]) -> dict[int, dict]:
    """{account id: the values criteria read}, only the `attributes` the features need (memory: one small dict per
    account)."""
    found = {}
    for chunk in _chunks(account_ids):
        for row in Account.objects.filter(pk__in=chunk).values(*VALUE_COLUMNS):
            found[row["id"]] = {k: v for k, v in account_values(row).items() if k in attributes}
    return found


def candidate_criteria(deal_values: Sequence[dict]) -> list[dict]:
    """Candidate criteria from the deals' account values (one dict per deal): `eq` on each industry and country
    value with at least MIN_SUPPORT deals (the most common spelling of each), then bands of the numeric attributes."""
    candidates = []
    for attribute in EQ_ATTRIBUTES:
        spellings: dict[str, Counter] = defaultdict(Counter)
        for values in deal_values:
            value = values.get(attribute)
            if isinstance(value, str) and value.strip():
                spellings[value.strip().lower()][value.strip()] += 1
        for _, counts in sorted(spellings.items(), key=lambda item: -sum(item[1].values())):
            if sum(counts.values()) >= MIN_SUPPORT:
                value = counts.most_common(1)[0][0]
                group = attribute_label(attribute)
                candidates.append(
                    {"group": group, "attribute": attribute, "operator": "eq", "value": value, "points": 0}
                )
    for attribute in BAND_ATTRIBUTES:
        numbers = [as_number(values.get(attribute)) for values in deal_values]
        candidates += band_criteria(attribute, [n for n in numbers if n is not None])
    return candidates


def signal_points(rules: Sequence[SignalRule], lookback_days: float, deals: DealSet) -> np.ndarray:
    """deals x rules: each deal's points of each rule's kind (decayed, capped), as of 00:00 UTC on its close date,
    from the account's signals of the lookback before it. One pass over the signals of the deals' accounts."""
    points = np.zeros((len(deals.deal_ids), len(rules)))
    if not rules or not deals.deal_ids:
        return points
    moments = [dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) for day in deals.closed_on]
    lookback = dt.timedelta(days=lookback_days)
    since, until = min(moments) - lookback, max(moments)
    kinds = [rule.kind for rule in rules]
    events: dict[int, list[SignalEvent]] = defaultdict(list)
    for chunk in _chunks(sorted(set(deals.account_ids))):
        signals = Signal.objects.filter(
            account_id__in=chunk, kind__in=kinds, occurred_at__gte=since, occurred_at__lt=until
        ).order_by("account_id", "occurred_at", "id")  # a fixed order: the same signals always sum the same
        for account_id, kind, occurred_at in signals.values_list("account_id", "kind", "occurred_at").iterator(
            chunk_size=QUERY_CHUNK
        ):
            events[account_id].append(SignalEvent(kind, occurred_at))
    times = {account_id: [e.occurred_at for e in found] for account_id, found in events.items()}
    column = {kind: index for index, kind in enumerate(kinds)}
    cache: dict[tuple[int, dt.datetime], dict] = {}
    for row, (account_id, moment) in enumerate(zip(deals.account_ids, moments, strict=True)):
        if account_id not in events:
            continue
        key = (account_id, moment)
        if key not in cache:
            at = times[account_id]
            window = events[account_id][bisect_left(at, moment - lookback) : bisect_left(at, moment)]
            _, detail = signal_score(rules, window, moment, lookback_days, 100.0)
            cache[key] = detail["kinds"]
        for kind, totals in cache[key].items():
            points[row, column[kind]] = totals["points"]
    return points


@dataclass
class Design:
    """The design matrix and its columns."""

    matrix: np.ndarray
    features: list[Feature]
    skipped: int = 0


def criteria_matrix(
    active: list[dict], candidates: list[dict], account_ids: list[int], values_by_account: dict[int, dict]
) -> Design:
    """deals x criteria (0/1) through `scoring.criterion_matches`, each account matched once; repeated, constant and
    (for candidates) rare criteria left out. See the module docstring."""
    accounts = sorted(set(account_ids))
    where = {account_id: index for index, account_id in enumerate(accounts)}
    rows = np.array([where[a] for a in account_ids], dtype=int)
    seen_keys, seen_columns = set(), set()
    columns, features, skipped = [], [], 0
    for source, items in (("active model", active), ("candidate", candidates)):
        for item in items:
            key = criterion_key(item)
            if key in seen_keys:
                continue
            seen_keys.add(key)
            criterion = criterion_from_dict(item)
            by_account = np.array(
                [criterion_matches(criterion, values_by_account.get(a, {})) for a in accounts], dtype=bool
            )
            column = by_account[rows]
            support = int(column.sum())
            fingerprint = column.tobytes()
            minimum = MIN_SUPPORT if source == "candidate" else 1
            if support < minimum or support == len(column) or fingerprint in seen_columns:
                skipped += 1
                continue
            seen_columns.add(fingerprint)
            columns.append(column.astype(float))
            plain = {k: item.get(k) for k in ("group", "attribute", "operator", "value")}
            features.append(Feature(kind="criterion", label=criterion_text(plain), source=source, criterion=plain))
    matrix = np.column_stack(columns) if columns else np.zeros((len(account_ids), 0))
    return Design(matrix=matrix, features=features, skipped=skipped)


def score_band_table(unified: Sequence[float | None], won: np.ndarray) -> list[dict]:
    """Deals and wins by the account's current unified score band, with the win rate's Wilson interval (%)."""
    counts = Counter()
    wins = Counter()
    for score, outcome in zip(unified, won, strict=True):
        band = "Unscored"
        if score is not None:  # [lo, hi), the last band closed: 100 is in 80-100
            lo, hi = next((lo, hi) for lo, hi in SCORE_BANDS if score < hi or hi == SCORE_BANDS[-1][1])
            band = f"{lo}-{hi}"
        counts[band] += 1
        wins[band] += int(outcome)
    rows = []
    for band in [f"{lo}-{hi}" for lo, hi in reversed(SCORE_BANDS)] + ["Unscored"]:
        n = counts.get(band, 0)
        if band == "Unscored" and not n:
            continue
        interval = wilson_interval(wins[band], n)
        rows.append(
            {
                "band": band,
                "deals": n,
                "wins": wins[band],
                "win_rate": round(100 * wins[band] / n, 2) if n else None,
                "low": round(interval[0], 2) if interval else None,
                "high": round(interval[1], 2) if interval else None,
            }
        )
    return rows
