"""Recalibration's pure maths and settings: plain numbers and arrays in, plain numbers out."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.calibration import calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from accounts.criteria import attribute_label, criterion_sentence

MAX_DEALS = 200_000
MIN_DEALS, MIN_WINS, MIN_LOSSES = 200, 40, 40
MIN_SUPPORT = 30  # deals a candidate criterion must match to be tried
TEST_SHARE = 0.3
CV_FOLDS = 4
C_GRID = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 10.0]
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
QUERY_CHUNK = 5_000  # ids per query: SQLite's bound on parameters, and bounded rows per round trip
STEPS = 4  # the job's progress: deals read, features built, model fitted, report written

AS_OF_CHOICES = {
    "engaged": "the deal's engaged date (its close date when it has none)",
    "closed": "the deal's close date",
}
DEFAULT_AS_OF = "engaged"
TIERS_IN_MIX = ("tier_1", "tier_2", "tier_3", "recycle")

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
    regularisation: float = 1.0  # C, the inverse of the L2 strength, chosen by cross-validation


def win_model_fit(
    features: np.ndarray,
    won: np.ndarray,
    *,
    split: tuple[np.ndarray, np.ndarray] | None = None,
    random_state: int = RANDOM_STATE,
) -> WinModel:
    """Regularised logistic regression on standardised features, its L2 strength chosen by stratified
    cross-validation on the training deals (log loss), trained on the split and judged on the held-out part."""
    train, test = split or split_rows(won, random_state=random_state)
    scaler = StandardScaler().fit(features[train])
    scaler.scale_[scaler.scale_ == 0] = 1.0
    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=random_state)
    regression = LogisticRegressionCV(
        Cs=C_GRID, cv=folds, scoring="neg_log_loss", max_iter=3000, n_jobs=1, random_state=random_state
    ).fit(scaler.transform(features[train]), won[train])
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
        intercept=float(regression.intercept_[0] - np.sum(standardised * scaler.mean_ / scaler.scale_)),
        auc=auc,
        auc_low=low,
        auc_high=high,
        regularisation=float(regression.C_[0]),
    )


def black_box_auc(features: np.ndarray, won: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    """Held-out AUC of gradient boosting (scikit-learn's histogram boosting) on the same features and split: what a
    model nobody can read would rank, so the cost of points a person can check is known."""
    booster = HistGradientBoostingClassifier(
        max_iter=300, learning_rate=0.1, early_stopping=True, validation_fraction=0.15, random_state=RANDOM_STATE
    )
    with threadpool_limits(limits=1):  # one thread: a worker shares its cores, and threads would spin for them
        booster.fit(features[train], won[train])
        return float(roc_auc_score(won[test], booster.predict_proba(features[test])[:, 1]))


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


def criterion_text(criterion: dict) -> str:
    """A criterion as the model page lists it: "Industry is Software", "Employees between 200 and 999"."""
    return criterion_sentence(criterion["attribute"], criterion["operator"], criterion.get("value"))


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


def parse_target_mix(text: str | Sequence[float] | None) -> list[float] | None:
    """A target tier mix, "10,20,30,40" (per cent of scored accounts in Tier 1, 2, 3 and Recycle), as four numbers
    summing to 100; None for none given. ValueError with a sentence a person can act on otherwise."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    if len(parts) != len(TIERS_IN_MIX):
        raise ValueError(
            "A tier mix is four shares in per cent, for Tier 1, Tier 2, Tier 3 and Recycle, such as 10,20,30,40."
        )
    try:
        shares = [float(p) for p in parts]
    except (TypeError, ValueError):
        raise ValueError("Each share of the tier mix is a number of per cent, such as 10,20,30,40.") from None
    if any(not math.isfinite(s) or s < 0 or s > 100 for s in shares):
        raise ValueError("Each share of the tier mix is between 0 and 100 per cent.")
    if abs(sum(shares) - 100) > 0.5:
        raise ValueError(f"The shares of the tier mix add up to {sum(shares):g}%, not 100%.")
    return shares
