"""The KPIs (SPEC section 6, seed 000): one definition each, computed in the database with aggregates.

Every KPI is one of three shapes, each with a sample size, a 95% interval and, across segments, a test of whether the
segments differ at all (core/stats.py):
- a proportion (successes of n): Wilson interval, χ² test of homogeneity;
- a mean (n, Σx, Σx²): t interval, one-way ANOVA;
- a correlation (the six sums of Pearson's r): Fisher-z interval, significant when it leaves out 0.
Each is computed with one aggregate query for its segment rows and one for the total. Scope (SPEC section 1, KPIs
row): an admin counts every account, a manager the accounts of the territories they manage (and below), a rep the
accounts they own.
"""

from .definitions import BANDS, COUNT, KPIS, MIN_INTERVAL_N, PERCENT, RATIO, SCORE, SEGMENTS, USD, Kpi, R
from .measures import COMPUTE, kpi_compute, kpi_overview
from .score_measures import band_expr, icp_match_min_fit, icp_match_q, icp_matches
from .shapes import KpiResult, Period, Row, deal_territory, kpi_scope_q

__all__ = [
    "BANDS",
    "COMPUTE",
    "COUNT",
    "KPIS",
    "PERCENT",
    "R",
    "RATIO",
    "SCORE",
    "SEGMENTS",
    "USD",
    "Kpi",
    "KpiResult",
    "MIN_INTERVAL_N",
    "Period",
    "Row",
    "band_expr",
    "deal_territory",
    "icp_match_min_fit",
    "icp_match_q",
    "icp_matches",
    "kpi_compute",
    "kpi_overview",
    "kpi_scope_q",
]
