"""What recalibration reads: the closed deals, their accounts' values and their signals."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from accounts.criteria import VALUE_COLUMNS, account_values
from accounts.models import Account, Opportunity, Signal
from core.stats import wilson_interval
from segmentation.scoring import SignalEvent

from .features import SignalHistory
from .maths import MAX_DEALS, QUERY_CHUNK, SCORE_BANDS

# --- Reading the data ----------------------------------------------------------------------------------------


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
    as_of: list[dt.date] = field(default_factory=list)  # the day each deal's features are read as of (00:00 UTC)
    as_of_fallback: int = 0  # deals read as of their close date for want of an engaged date


def closed_deals(*, limit: int = MAX_DEALS, as_of: str = "closed") -> DealSet:
    """The most recently closed deals with a close date (at most `limit`), newest first. `as_of`: "engaged" reads
    each deal's features as of its engaged date (its close date when it has none, or a later one), "closed" as of
    its close date."""
    closed = Opportunity.objects.filter(is_closed=True)
    rows = list(
        closed.filter(closed_on__isnull=False)
        .order_by("-closed_on", "-id")
        .values_list("id", "account_id", "is_won", "closed_on", "account__score__unified", "engaged_on")[: limit + 1]
    )
    capped = len(rows) > limit
    rows = rows[:limit]
    moments, fallback = [], 0
    for r in rows:
        if as_of == "engaged" and r[5] is not None and r[5] <= r[3]:
            moments.append(r[5])
        else:
            fallback += as_of == "engaged"
            moments.append(r[3])
    return DealSet(
        deal_ids=[r[0] for r in rows],
        account_ids=[r[1] for r in rows],
        won=np.array([bool(r[2]) for r in rows], dtype=bool),
        closed_on=[r[3] for r in rows],
        unified=[r[4] for r in rows],
        without_close_date=closed.filter(closed_on__isnull=True).count(),
        capped=capped,
        as_of=moments,
        as_of_fallback=fallback,
    )


def _chunks(items: list, size: int = QUERY_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def account_values_of(account_ids: list[int] | None) -> dict[int, dict]:
    """{account id: every value criteria read (fields and attributes)}, in id order; None reads every account (one
    pass over the table, no list of ids sent)."""
    found = {}
    if account_ids is None:
        rows = Account.objects.order_by("pk").values(*VALUE_COLUMNS).iterator(chunk_size=QUERY_CHUNK)
        return {row["id"]: account_values(row) for row in rows}
    for chunk in _chunks(account_ids):
        for row in Account.objects.filter(pk__in=chunk).values(*VALUE_COLUMNS):
            found[row["id"]] = account_values(row)
    return found


def signal_history(
    account_ids: list[int], *, since: dt.datetime, until: dt.datetime, every: bool = False, events: bool = True
) -> tuple[SignalHistory, dict[int, list[SignalEvent]]]:
    """The signals of `account_ids` with since <= occurred_at < until: as arrays (rows index `account_ids`) and, with
    `events`, as each account's events in time order (what the scoring reads, contact and persona included). `every`
    says `account_ids` is every account: the signals are then read in one pass by time alone."""
    where = {a: i for i, a in enumerate(account_ids)}
    kinds: dict[str, int] = {}
    account, kind, at = [], [], []
    found: dict[int, list[SignalEvent]] = defaultdict(list)
    columns = ("account_id", "kind", "occurred_at") + (("contact__persona", "contact_id") if events else ())
    in_time = Signal.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
    for chunk in [None] if every else _chunks(account_ids):
        signals = in_time if chunk is None else in_time.filter(account_id__in=chunk)
        rows = signals.order_by("account_id", "occurred_at", "id").values_list(*columns)  # a fixed order: the same
        for row in rows.iterator(chunk_size=QUERY_CHUNK):  # signals always sum the same
            index = where.get(row[0])
            if index is None:  # an account created since the accounts were read
                continue
            account.append(index)
            kind.append(kinds.setdefault(row[1], len(kinds)))
            at.append(row[2].timestamp())
            if events:
                found[row[0]].append(SignalEvent(row[1], row[2], row[3], row[4]))
    history = SignalHistory(
        kinds=list(kinds),
        account=np.array(account, dtype=np.int64),
        kind=np.array(kind, dtype=np.int64),
        at=np.array(at, dtype=float),
    )
    return history, found


def events_before(events: list[SignalEvent], moment: dt.datetime) -> list[SignalEvent]:
    """The events (in time order) strictly before `moment`."""
    return events[: bisect_left([e.occurred_at for e in events], moment)]


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
