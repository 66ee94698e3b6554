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

from .analysis import (
    Recalibration,
    recalibration_compute,
    recalibration_draft_create,
    recalibration_job_create,
    recalibration_job_latest,
    recalibration_job_start,
    recalibration_run,
    verdict_message,
)
from .data import DealSet, closed_deals, score_band_table
from .maths import (
    AS_OF_CHOICES,
    AUC_FLOOR,
    DEFAULT_AS_OF,
    MAX_DEALS,
    MIN_DEALS,
    MIN_LOSSES,
    MIN_SUPPORT,
    MIN_WINS,
    PROPOSAL,
    TIERS_IN_MIX,
    auc_interval,
    band_criteria,
    lift_table,
    parse_target_mix,
    readable,
    verdict_for,
)

__all__ = [
    "AS_OF_CHOICES",
    "DEFAULT_AS_OF",
    "TIERS_IN_MIX",
    "AUC_FLOOR",
    "MAX_DEALS",
    "MIN_DEALS",
    "MIN_LOSSES",
    "MIN_SUPPORT",
    "MIN_WINS",
    "PROPOSAL",
    "DealSet",
    "Recalibration",
    "auc_interval",
    "band_criteria",
    "closed_deals",
    "lift_table",
    "parse_target_mix",
    "readable",
    "recalibration_compute",
    "recalibration_draft_create",
    "recalibration_job_create",
    "recalibration_job_latest",
    "recalibration_job_start",
    "recalibration_run",
    "score_band_table",
    "verdict_for",
    "verdict_message",
]
