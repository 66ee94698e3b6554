"""Recalibration: what closed deals say about the scoring model, and a draft model with new criterion points.

**Data set.** The closed opportunities (`is_closed`; the label is `is_won`) that have a close date, the MAX_DEALS
most recently closed at most, each with its account's attributes. One row per deal: an account with many deals
counts once per deal, since the question is which deals are won. Deals without a close date cannot be placed in
time (their signals as of the outcome are unknown), so they are left out and counted.

**Features** (the columns of the design matrix):
- criterion features, 0 or 1: does the deal's account match the criterion, by `scoring.criterion_matches` (the
  rule the scoring itself applies):
  (a) every fit criterion of the active scoring model (its frozen criteria);
  (b) candidates: `industry eq v` and `country eq v` for each value v with at least MIN_SUPPORT closed deals
      (values compared as criteria compare them: case and surrounding spaces ignored), and bands of
      `employee_count`, `annual_revenue` and `year_founded` cut at their deal quartiles rounded to readable
      numbers: `lte` below the first cut, `between` consecutive cuts, `gte` from the last cut.
  A criterion that says the same as an earlier one (same attribute, operator and value, or matching exactly the
  same deals) is kept once, the active model's first; one matching no deal or every deal says nothing and is left
  out, and so is a candidate matching fewer than MIN_SUPPORT deals.
- signal features, one per signal rule kind of the active model (the standard rules when no model is active):
  the account's points of that kind exactly as the scoring computes them (each signal decayed, the kind's total
  capped at max_points) as of 00:00 UTC on the close date, from the signals of the model's lookback before that
  moment. Nothing that happened on or after the close date is read, so the outcome cannot leak in.

**Fit.** Logistic regression (scikit-learn, L2 penalty, C = 1) on the standardised features, trained on a
stratified 70% of the deals (fixed random_state: the same data gives the same split and the same report) and
judged on the other 30%:
- AUC with its 95% interval by Hanley & McNeil (1982):
      SE² = (A(1-A) + (n₁-1)(Q₁-A²) + (n₂-1)(Q₂-A²)) / (n₁·n₂),  Q₁ = A/(2-A),  Q₂ = 2A²/(1+A)
  (n₁ won, n₂ lost held-out deals); AUC ± 1.96·SE;
- lift by band: the held-out deals ordered by predicted probability and cut into five equal bands;
  lift = the band's win rate / the held-out win rate;
- a calibration curve (`sklearn.calibration.calibration_curve`, ten bins of equal counts);
- the ranking: every feature by importance = |coefficient| x the feature's standard deviation (that is, the
  coefficient on the standardised scale), with its coefficient (log-odds per match, or per signal point), odds ratio
  exp(coefficient), support (deals matching, or with points of that kind) and win rate when matched vs not.
The split is by deal: an account's deals may fall on both sides, and the interval and the tests below take deals
as independent, which overstates the evidence when one account's deals share its fate (they do not in the demo
data). Beside the fit, the win rate by the account's current unified score band (0-20, 20-40, 40-60, 60-80,
80-100), over every deal of the data set, with Wilson intervals.

**Verdict.**
- `too_little_data`: fewer than MIN_DEALS closed deals, or fewer than MIN_WINS won or MIN_LOSSES lost; no fit.
- `no_signal`: the AUC's 95% interval includes 0.5, or the AUC itself is below AUC_FLOOR (0.55). Two ways a
  proposal would be noise, one clause each. The interval guards against chance on small data: a model that may be a
  coin toss proposes nothing. The floor guards against trivial effects on big data: with 100,000 deals an AUC of
  0.51 is "significant" and worthless, and points scaled up to 100 on it would move accounts between tiers for
  nothing; 0.55 is about the smallest effect worth acting on (an AUC of 0.556 is Cohen's "small" effect, d = 0.2;
  Rice & Harris 2005). Requiring instead the interval's lower end above 0.55 was tried and rejected: a twofold win
  rate in one industry of five (true AUC about 0.59) then needs some 10,000 closed deals to be proposed reliably
  (lower ends 0.552-0.586 over ten generated data sets of that size), more than most CRMs hold; with this rule 2,000
  deals suffice (eight data sets out of eight). Also `no_signal` when
  the model does predict but no fit criterion qualifies for the proposal (below): then the signals carry the
  prediction and the ICP has nothing to change.
- `proposal`: otherwise.

**Proposal.** The criteria whose coefficient is positive and whose win rate when matched is above the win rate when
not, by more than chance explains after a Bonferroni correction over every feature tested (two-proportion z test
over all deals, p < 0.05 / features). Points = round(100 x coefficient / the largest such coefficient), so the
strongest criterion scores 100 (points below 1 are dropped); each criterion is grouped by its attribute (group
"Industry", "Employee count"...). A group scores its best matched criterion: an account matches at most one of
disjoint bands or values, so it scores as the regression's terms add up; overlapping criteria of one attribute (the
active model's) are only approximated. Signal rules
are reported, not changed. The new ICP keeps the active ICP's exclusions, and the draft is a copy of the active
version (`model_draft_create(based_on=active)`) with the new ICP. With no active model the draft starts from the
defaults: the standard signal rules and buying group, no exclusions. The admin previews and publishes it like any
draft; nothing is published here.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone
from scipy.stats import norm
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from accounts.criteria import VALUE_COLUMNS, account_values, as_number, criterion_from_dict, criterion_matches
from accounts.models import Account, Opportunity, Signal
from core.jobs import job_create, job_progress
from core.models import Job
from core.stats import wilson_interval
from segmentation.defaults import STANDARD_PERSONAS, STANDARD_SIGNAL_RULES
from segmentation.models import ICP, ScoringModel
from segmentation.scoring import SignalEvent, SignalRule, signal_score
from segmentation.selectors import active_model
from segmentation.services import model_draft_create

MAX_DEALS = 200_000
MIN_DEALS, MIN_WINS, MIN_LOSSES = 200, 40, 40
MIN_SUPPORT = 30  # deals a candidate criterion must match to be tried
TEST_SHARE = 0.3
RANDOM_STATE = 20_240_601
AUC_FLOOR = 0.55
Z_95 = 1.959963984540054
ALPHA = 0.05
LIFT_BANDS = 5
CALIBRATION_BINS = 10
SCORE_BANDS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 100))
EQ_ATTRIBUTES = ("industry", "country")
BAND_ATTRIBUTES = ("employee_count", "annual_revenue", "year_founded")
READABLE_STEP = {"year_founded": 5}  # years read best in fives; other numbers to two significant digits
ATTRIBUTE_LABELS = {
    "industry": "Industry",
    "country": "Country",
    "employee_count": "Employee count",
    "annual_revenue": "Annual revenue",
    "year_founded": "Year founded",
}
QUERY_CHUNK = 5_000  # ids per query: SQLite's bound on parameters, and bounded rows per round trip
STEPS = 4  # the job's progress: deals read, features built, model fitted, report written

TOO_LITTLE_DATA, NO_SIGNAL, PROPOSAL = "too_little_data", "no_signal", "proposal"
VERDICT_LABELS = {
    TOO_LITTLE_DATA: "Too little data",
    NO_SIGNAL: "No real signal",
    PROPOSAL: "New points proposed",
}


# --- Pure maths: plain numbers and arrays in, plain numbers out --------------------------------------------------


def readable(value: float, *, step: float | None = None) -> float:
    """`value` rounded to a multiple of `step`, or else to two significant digits (2,822 -> 2,800)."""
    if value == 0 or not math.isfinite(value):
        return value
    if step is None:
        step = 10.0 ** (math.floor(math.log10(abs(value))) - 1)
    return round(value / step) * step


def _plain(number: float) -> int | float:
    """An integral float as an int, so criteria read `between [1000, 2999]`, not `[1000.0, 2999.0]`."""
    return int(number) if float(number).is_integer() else round(float(number), 2)


def band_criteria(attribute: str, values: Sequence[float], *, parts: int = 4) -> list[dict]:
    """Bands of a numeric attribute cut at the quantiles of `values` (one per deal), rounded to readable numbers:
    `lte` the first cut less one unit, `between` consecutive cuts, `gte` the last cut. The unit is 1 when every value
    is whole (counts, years), else 0.01. Empty when the values are too few or all alike."""
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if len(data) < 2 or data.min() == data.max():
        return []
    unit = 1.0 if np.all(np.mod(data, 1) == 0) else 0.01
    step = READABLE_STEP.get(attribute)
    raw = np.quantile(data, [k / parts for k in range(1, parts)])
    cuts = sorted({readable(float(c), step=step) for c in raw})
    cuts = [c for c in cuts if data.min() < c <= data.max()]
    if not cuts:
        return []
    group = attribute_label(attribute)
    found = [{"group": group, "attribute": attribute, "operator": "lte", "value": _plain(cuts[0] - unit)}]
    found += [
        {"group": group, "attribute": attribute, "operator": "between", "value": [_plain(lo), _plain(hi - unit)]}
        for lo, hi in zip(cuts, cuts[1:], strict=False)
    ]
    found.append({"group": group, "attribute": attribute, "operator": "gte", "value": _plain(cuts[-1])})
    return [{**c, "points": 0} for c in found]


def auc_interval(auc: float, wins: int, losses: int, *, z: float = Z_95) -> tuple[float, float]:
    """The 95% interval of an AUC by Hanley & McNeil (see the module docstring), clipped to [0, 1]."""
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (wins - 1) * (q1 - auc * auc) + (losses - 1) * (q2 - auc * auc)) / (wins * losses)
    half = z * math.sqrt(max(0.0, variance))
    return max(0.0, auc - half), min(1.0, auc + half)


def two_proportion_p(wins_a: int, n_a: int, wins_b: int, n_b: int) -> float:
    """Two-sided p-value of the z test that two win rates are equal (pooled standard error); 1 when untestable."""
    if n_a == 0 or n_b == 0:
        return 1.0
    pooled = (wins_a + wins_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 1.0
    z = (wins_a / n_a - wins_b / n_b) / se
    return float(2 * norm.sf(abs(z)))


def verdict_for(*, deals: int, wins: int, auc: float | None = None, auc_low: float | None = None) -> str:
    """The verdict from the counts, the held-out AUC and the lower end of its 95% interval (None: no fit)."""
    if deals < MIN_DEALS or wins < MIN_WINS or deals - wins < MIN_LOSSES:
        return TOO_LITTLE_DATA
    if auc is None or auc_low is None or auc_low <= 0.5 or auc < AUC_FLOOR:
        return NO_SIGNAL
    return PROPOSAL


def split_rows(won: np.ndarray, *, random_state: int = RANDOM_STATE) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) row indices: a stratified TEST_SHARE held out, reproducible for the same outcomes."""
    rows = np.arange(len(won))
    train, test = train_test_split(rows, test_size=TEST_SHARE, stratify=won, random_state=random_state)
    return np.sort(train), np.sort(test)


@dataclass
class WinModel:
    """A fitted win-probability model and its held-out judgement."""

    train: np.ndarray
    test: np.ndarray
    predicted: np.ndarray  # the held-out deals' win probabilities, in the order of `test`
    coefficients: np.ndarray  # per unit of each feature (log-odds)
    importance: np.ndarray  # |coefficient| x the feature's standard deviation in training
    intercept: float
    auc: float
    auc_low: float
    auc_high: float


def win_model_fit(features: np.ndarray, won: np.ndarray, *, random_state: int = RANDOM_STATE) -> WinModel:
    """Logistic regression on standardised features, trained on the stratified split, judged on the held-out part."""
    train, test = split_rows(won, random_state=random_state)
    scaler = StandardScaler().fit(features[train])
    regression = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(features[train]), won[train])
    predicted = regression.predict_proba(scaler.transform(features[test]))[:, 1]
    standardised = regression.coef_[0]
    auc = float(roc_auc_score(won[test], predicted))
    low, high = auc_interval(auc, int(won[test].sum()), int(len(test) - won[test].sum()))
    return WinModel(
        train=train,
        test=test,
        predicted=predicted,
        coefficients=standardised / scaler.scale_,
        importance=np.abs(standardised),
        intercept=float(regression.intercept_[0]),
        auc=auc,
        auc_low=low,
        auc_high=high,
    )


def lift_table(won: np.ndarray, predicted: np.ndarray, *, bands: int = LIFT_BANDS) -> list[dict]:
    """Deals ordered by predicted probability (highest first), cut into equal bands: n, wins, win rate (%), mean
    predicted probability (%) and lift = band win rate / overall win rate."""
    order = np.argsort(-predicted, kind="stable")
    base = float(won.mean()) if len(won) else 0.0
    rows = []
    for number, part in enumerate(np.array_split(order, bands)):
        n, wins = len(part), int(won[part].sum())
        rate = wins / n if n else 0.0
        low, high = 100 * number // bands, 100 * (number + 1) // bands
        label = f"{low}-{high}%"
        if number == 0:
            label = f"Top {high}%"
        elif number == bands - 1:
            label = f"Bottom {100 - low}%"
        rows.append(
            {
                "band": number + 1,
                "label": label,
                "deals": n,
                "wins": wins,
                "win_rate": round(100 * rate, 2),
                "predicted": round(100 * float(predicted[part].mean()), 2) if n else None,
                "lift": round(rate / base, 2) if base else None,
            }
        )
    return rows


def calibration_points(won: np.ndarray, predicted: np.ndarray, *, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Mean predicted vs observed win rate (%) per bin of equal counts (`sklearn.calibration.calibration_curve`)."""
    observed, mean_predicted = calibration_curve(won, predicted, n_bins=bins, strategy="quantile")
    return [
        {"predicted": round(100 * float(p), 2), "observed": round(100 * float(o), 2)}
        for p, o in zip(mean_predicted, observed, strict=True)
    ]


def feature_effects(column: np.ndarray, won: np.ndarray) -> dict:
    """Support (rows with a value above 0), win rate (%) when matched and when not, and the z test's p-value."""
    matched = column > 0
    n_in, n_out = int(matched.sum()), int((~matched).sum())
    wins_in, wins_out = int(won[matched].sum()), int(won[~matched].sum())
    return {
        "support": n_in,
        "wins_matched": wins_in,
        "win_rate_matched": round(100 * wins_in / n_in, 2) if n_in else None,
        "win_rate_unmatched": round(100 * wins_out / n_out, 2) if n_out else None,
        "p_value": two_proportion_p(wins_in, n_in, wins_out, n_out),
    }


def proposal_points(ranking: Sequence[dict]) -> list[dict]:
    """The proposed criteria: rows of the ranking marked `meaningful`, points = round(100 x coefficient / the
    largest coefficient among them), grouped by attribute; strongest first."""
    chosen = [r for r in ranking if r.get("meaningful")]
    if not chosen:
        return []
    top = max(r["coefficient"] for r in chosen)
    proposed = []
    for row in sorted(chosen, key=lambda r: -r["coefficient"]):
        points = round(100 * row["coefficient"] / top)
        if points >= 1:
            criterion = row["criterion"]
            proposed.append(
                {
                    "group": attribute_label(criterion["attribute"]),
                    "attribute": criterion["attribute"],
                    "operator": criterion["operator"],
                    "value": criterion["value"],
                    "points": points,
                }
            )
    return proposed


def attribute_label(attribute: str) -> str:
    return ATTRIBUTE_LABELS.get(attribute) or attribute.replace("_", " ").strip().capitalize()


def criterion_text(criterion: dict) -> str:
    """A criterion as the model page lists it: `industry eq software`, `employee_count between 200 and 999`."""
    attribute, operator, value = criterion["attribute"], criterion["operator"], criterion.get("value")
    if value is None:
        return f"{attribute} {operator}"
    if operator == "between" and isinstance(value, list) and len(value) == 2:
        return f"{attribute} between {value[0]} and {value[1]}"
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return f"{attribute} {operator} {value}"


def _canonical(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def criterion_key(criterion: dict) -> str:
    """What a criterion says, whatever its spelling: attribute, operator and value compared as criteria compare."""
    return json.dumps([criterion["attribute"].strip(), criterion["operator"], _canonical(criterion.get("value"))])


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


# --- The analysis and the proposal -------------------------------------------------------------------------------


@dataclass
class Recalibration:
    """The report (what the job stores) and, for whoever ran it in process, the deals of the held-out part."""

    report: dict
    deal_ids: list[int] = field(default_factory=list)
    test_rows: list[int] = field(default_factory=list)  # indexes into deal_ids
    draft: ScoringModel | None = None


def _model_rules(model: ScoringModel | None) -> tuple[list[SignalRule], float]:
    rules = model.signal_rules if model is not None else STANDARD_SIGNAL_RULES
    lookback = float(model.lookback_days) if model is not None else 365.0
    parsed = [
        SignalRule(
            kind=str(r["kind"]).strip(),
            points=float(r["points"]),
            half_life_days=float(r["half_life_days"]),
            max_points=float(r["max_points"]),
        )
        for r in rules or []
    ]
    return parsed, lookback


def recalibration_compute(
    *, model: ScoringModel | None, limit: int = MAX_DEALS, progress: Callable[[int], None] | None = None
) -> Recalibration:
    """Read the closed deals, build the features, fit and judge the win model; the report and its verdict (no
    draft is created here: see `recalibration_run`)."""
    step = progress or (lambda done: None)
    deals = closed_deals(limit=limit)
    n, wins = len(deals.deal_ids), int(deals.won.sum())
    report: dict[str, Any] = {
        "computed_at": timezone.now().isoformat(),
        "active_model": (
            {"id": model.pk, "version": model.version, "name": model.name, "icp": model.icp.name} if model else None
        ),
        "deals": n,
        "wins": wins,
        "losses": n - wins,
        "base_rate": round(100 * wins / n, 2) if n else None,
        "without_close_date": deals.without_close_date,
        "capped": deals.capped,
        "cap": limit,
        "requirements": {"deals": MIN_DEALS, "wins": MIN_WINS, "losses": MIN_LOSSES, "auc_floor": AUC_FLOOR},
        "score_bands": score_band_table(deals.unified, deals.won),
        "auc": None,
        "auc_low": None,
        "auc_high": None,
        "lift": [],
        "calibration": [],
        "ranking": [],
        "proposal": None,
    }
    step(1)
    if verdict_for(deals=n, wins=wins) == TOO_LITTLE_DATA:
        return _finish(report, TOO_LITTLE_DATA, deals=deals)

    active_criteria = model.current_criteria()[0] if model is not None else []
    needed = {str(c.get("attribute", "")).strip() for c in active_criteria} | set(EQ_ATTRIBUTES) | set(BAND_ATTRIBUTES)
    values_by_account = _account_values(sorted(set(deals.account_ids)), needed)
    deal_values = [values_by_account.get(a, {}) for a in deals.account_ids]
    design = criteria_matrix(active_criteria, candidate_criteria(deal_values), deals.account_ids, values_by_account)
    rules, lookback = _model_rules(model)
    signals = signal_points(rules, lookback, deals)
    signal_columns = [i for i in range(len(rules)) if signals[:, i].min() != signals[:, i].max()]
    matrix = np.column_stack([design.matrix, signals[:, signal_columns]])
    features = design.features + [
        Feature(kind="signal", label=f"{rules[i].kind} points", source="signal rule", signal_kind=rules[i].kind)
        for i in signal_columns
    ]
    report["features"] = {
        "criteria": len(design.features),
        "signals": len(signal_columns),
        "left_out": design.skipped + len(rules) - len(signal_columns),
    }
    step(2)
    if not features:
        report["message_detail"] = "No attribute or signal differs between these deals: there is nothing to learn."
        return _finish(report, NO_SIGNAL, deals=deals)

    fitted = win_model_fit(matrix, deals.won)
    test_won = deals.won[fitted.test]
    report.update(
        {
            "train": {"deals": len(fitted.train), "wins": int(deals.won[fitted.train].sum())},
            "test": {"deals": len(fitted.test), "wins": int(test_won.sum())},
            "auc": round(fitted.auc, 4),
            "auc_low": round(fitted.auc_low, 4),
            "auc_high": round(fitted.auc_high, 4),
            "lift": lift_table(test_won, fitted.predicted),
            "calibration": calibration_points(test_won, fitted.predicted),
            "ranking": _ranking(features, matrix, deals.won, fitted),
        }
    )
    step(3)
    verdict = verdict_for(deals=n, wins=wins, auc=fitted.auc, auc_low=fitted.auc_low)
    if verdict == PROPOSAL:
        report["proposal"] = {"criteria": proposal_points(report["ranking"])}
        if not report["proposal"]["criteria"]:
            report["proposal"] = None
            report["message_detail"] = (
                "The model ranks deals better than chance, but no fit criterion raises the win rate reliably "
                "(the signals carry the prediction): the ICP has nothing to change."
            )
            verdict = NO_SIGNAL
    return _finish(report, verdict, deals=deals, test_rows=fitted.test.tolist())


def _ranking(features: list[Feature], matrix: np.ndarray, won: np.ndarray, fitted: WinModel) -> list[dict]:
    """Every feature, most important first, with its effect; `meaningful` marks the criteria a proposal may use."""
    threshold = ALPHA / len(features)  # Bonferroni: every feature is a test
    rows = []
    for index, feature in enumerate(features):
        coefficient = float(fitted.coefficients[index])
        effects = feature_effects(matrix[:, index], won)
        meaningful = (
            feature.kind == "criterion"
            and coefficient > 0
            and effects["win_rate_matched"] is not None
            and effects["win_rate_unmatched"] is not None
            and effects["win_rate_matched"] > effects["win_rate_unmatched"]
            and effects["p_value"] < threshold
        )
        rows.append(
            {
                "label": feature.label,
                "kind": feature.kind,
                "source": feature.source,
                "criterion": feature.criterion,
                "signal_kind": feature.signal_kind,
                "coefficient": round(coefficient, 4),
                "odds_ratio": round(math.exp(max(-50.0, min(50.0, coefficient))), 3),
                "importance": round(float(fitted.importance[index]), 4),
                **effects,
                "p_value": float(f"{effects['p_value']:.3g}"),
                "meaningful": bool(meaningful),
            }
        )
    rows.sort(key=lambda r: (-r["importance"], r["label"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def _finish(report: dict, verdict: str, *, deals: DealSet, test_rows: list[int] | None = None) -> Recalibration:
    report["verdict"] = verdict
    report["verdict_label"] = VERDICT_LABELS[verdict]
    report["message"] = verdict_message(report, verdict)
    return Recalibration(report=report, deal_ids=deals.deal_ids, test_rows=test_rows or [])


def verdict_message(report: dict, verdict: str) -> str:
    """The verdict in plain words, with the figures behind it."""
    n, wins, losses = report["deals"], report["wins"], report["losses"]
    if verdict == TOO_LITTLE_DATA:
        return (
            f"It needs at least {MIN_DEALS} closed deals with a close date, "
            f"{MIN_WINS} of them won and {MIN_LOSSES} lost; there are {n:,} ({wins:,} won, {losses:,} lost). "
            "Nothing is proposed."
        )
    auc = report.get("auc")
    figures = (
        f"held-out AUC {auc:.3f} (95% CI {report['auc_low']:.3f}-{report['auc_high']:.3f}) "
        f"on {report['test']['deals']:,} of {n:,} closed deals"
        if auc is not None
        else f"{n:,} closed deals"
    )
    if verdict == NO_SIGNAL:
        detail = report.get("message_detail") or (
            f"The attributes and signals do not predict wins: {figures}; the interval includes 0.5, a coin toss. "
            "Win rates barely differ between these segments."
            if auc is not None and report["auc_low"] <= 0.5
            else f"The attributes and signals barely predict wins: {figures}, better than chance but below "
            f"{AUC_FLOOR}, too weak an effect to act on."
        )
        if report.get("message_detail") and auc is not None:
            detail += f" ({figures}.)"
        return f"{detail} No new points are proposed: they would be fitted to noise."
    count = len((report.get("proposal") or {}).get("criteria") or [])
    return (
        f"The model predicts wins: {figures}. A draft proposes new points for {count} "
        f"criteri{'on' if count == 1 else 'a'}; preview its impact, then publish it like any draft."
    )


def _unique_icp_name(base: str) -> str:
    base = base[:110]
    name, number = base, 2
    while ICP.objects.filter(name=name).exists():
        name, number = f"{base} #{number}", number + 1
    return name


def recalibration_draft_create(
    *, report: dict, model: ScoringModel | None, user, job: Job | None = None
) -> ScoringModel:
    """A new ICP with the proposed criteria (and the active ICP's exclusions) and a draft scoring model using it,
    copied from the active version, or from the defaults when none is active. Nothing is published."""
    today = timezone.now().date().isoformat()
    source = f" (from {model.icp.name})" if model is not None else ""
    marker = f" [recalibration job #{job.pk}]" if job is not None else ""
    notes = (
        f"Proposed by the recalibration of {today}{marker}: win-probability model on {report['deals']:,} closed deals "
        f"({report['wins']:,} won), held-out AUC {report['auc']:.3f} "
        f"(95% CI {report['auc_low']:.3f}-{report['auc_high']:.3f}). Points scaled so the strongest criterion "
        "scores 100; "
        + (
            f"signal rules, weights and thresholds as in v{model.version}."
            if model is not None
            else "no version was active: the standard signal rules and buying group, default weights and thresholds."
        )
    )
    exclusions = model.current_criteria()[1] if model is not None else []
    with transaction.atomic():
        icp = ICP.objects.create(
            name=_unique_icp_name(f"Recalibrated {today}{source}"),
            description=notes,
            criteria=report["proposal"]["criteria"],
            exclusions=exclusions,
            updated_by=user,
        )
        defaults = (
            {}
            if model is not None
            else {
                "signal_rules": [dict(r) for r in STANDARD_SIGNAL_RULES],
                "required_personas": list(STANDARD_PERSONAS),
            }
        )
        return model_draft_create(
            user=user, based_on=model, icp=icp, name=f"Recalibrated {today}", notes=notes, **defaults
        )


def recalibration_run(*, user, job: Job | None = None, limit: int = MAX_DEALS) -> Recalibration:
    """The whole recalibration: the analysis with the active model, and a draft when the verdict is a proposal.

    A job run again (a retried task) reuses the draft its first run created rather than proposing twice."""
    model = active_model()

    def progress(done: int) -> None:
        if job is not None:
            job_progress(job=job, done=done, total=STEPS)

    result = recalibration_compute(model=model, limit=limit, progress=progress)
    report = result.report
    if report["verdict"] == PROPOSAL:
        earlier = ScoringModel.objects.filter(notes__contains=f"[recalibration job #{job.pk}]").first() if job else None
        result.draft = earlier or recalibration_draft_create(report=report, model=model, user=user, job=job)
        report["proposal"].update(
            {
                "model_id": result.draft.pk,
                "version": result.draft.version,
                "icp_id": result.draft.icp_id,
                "icp_name": result.draft.icp.name,
            }
        )
        report["message"] = verdict_message(report, PROPOSAL) + f" Draft: v{result.draft.version}."
    report["summary"] = _summary(report)
    report["notes"] = [report["message"]]
    progress(STEPS)
    return result


def _summary(report: dict) -> dict:
    """The few figures the generic job page shows."""
    summary = {
        "verdict": report["verdict_label"],
        "closed deals": report["deals"],
        "won": report["wins"],
        "win rate %": report["base_rate"],
    }
    if report.get("auc") is not None:
        summary["held-out AUC"] = f"{report['auc']:.3f} ({report['auc_low']:.3f}-{report['auc_high']:.3f})"
    if report.get("proposal") and report["proposal"].get("version"):
        summary["draft"] = f"v{report['proposal']['version']}"
    return summary


def recalibration_job_start(*, user) -> Job:
    """Record a recalibration job and queue its task once the caller's transaction commits."""
    from .tasks import recalibrate_task

    job = job_create(kind=Job.Kind.RECALIBRATE, created_by=user, title="recalibration from closed deals", total=STEPS)
    transaction.on_commit(lambda: recalibrate_task.delay(job.pk))
    return job


def recalibration_job_latest(*, finished: bool = False) -> Job | None:
    """The latest recalibration job (the latest succeeded one with `finished`)."""
    jobs = Job.objects.filter(kind=Job.Kind.RECALIBRATE)
    if finished:
        jobs = jobs.filter(status=Job.Status.SUCCEEDED)
    return jobs.select_related("created_by").order_by("-created_at", "-id").first()
