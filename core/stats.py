"""The statistics behind the KPIs: intervals and tests from counts and sums, so the database does the counting.

Pure functions on plain numbers. Every KPI figure is a proportion (successes of n), a mean (n, sum, sum of squares)
or a correlation (the six sums of a Pearson r); these turn them into a value, a 95% interval and, across groups, a
test of whether the groups differ at all, so that a flat result reads as flat.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps

Z_95 = 1.959963984540054
ALPHA = 0.05
# Below this many in a group a test says nothing useful; the groups are still shown, the verdict says so.
MIN_GROUP = 5


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion, in percent (95% by default); None without a sample.

    centre = (p + z²/2n) / (1 + z²/n), half-width = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n), with p = successes/n.
    """
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / denominator
    return max(0.0, 100 * (centre - half)), min(100.0, 100 * (centre + half))


@dataclass(frozen=True)
class Moments:
    """n values summarised by their count, sum and sum of squares (all a SQL aggregate gives)."""

    n: int
    total: float
    squares: float

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def variance(self) -> float | None:
        """The sample variance, (Σx² - (Σx)²/n) / (n - 1); None under two values."""
        if self.n < 2:
            return None
        return max(0.0, (self.squares - self.total * self.total / self.n) / (self.n - 1))


def mean_interval(m: Moments) -> tuple[float, float] | None:
    """The 95% interval of a mean: mean ± t(0.975, n-1) · s/√n; None under two values."""
    if m.n < 2 or m.variance is None:
        return None
    half = float(sps.t.ppf(1 - ALPHA / 2, m.n - 1)) * math.sqrt(m.variance / m.n)
    return m.mean - half, m.mean + half


@dataclass(frozen=True)
class Test:
    """Whether groups differ: the test's name, statistic and p-value, and the verdict in words."""

    name: str
    statistic: float | None
    p_value: float | None
    significant: bool
    verdict: str


P_FLOOR = 1e-6  # below this a p-value reads "< 1e-6": its digits say nothing more (and it may have underflowed to 0)


def p_value_text(p_value: float | None) -> str:
    """A p-value as people read it, never "0": "< 1e-6" below 1e-6, scientific below 0.001 ("3.2e-5"), else three
    decimals ("0.042"); "–" when there is none."""
    if p_value is None or math.isnan(p_value):
        return "–"
    if p_value < P_FLOOR:
        return "< 1e-6"
    if p_value < 0.001:
        mantissa, exponent = f"{p_value:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{p_value:.3f}"


def p_value_words(p_value: float) -> str:
    """The p-value in a verdict: "p = 0.042", "p = 3.2e-5" or "p < 1e-6"."""
    text = p_value_text(p_value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _untestable(reason: str) -> Test:
    return Test(name="", statistic=None, p_value=None, significant=False, verdict=reason)


def _verdict(name: str, statistic: float, p_value: float, what: str) -> Test:
    if math.isnan(p_value):
        return _untestable(f"The groups' {what} cannot be compared: every group has the same outcome.")
    significant = p_value < ALPHA
    verdict = (
        f"The {what} differ between groups more than chance would explain ({name}, {p_value_words(p_value)})."
        if significant
        else f"The differences in {what} between groups are not significant ({name}, {p_value_words(p_value)}): "
        f"read them as flat."
    )
    return Test(name=name, statistic=statistic, p_value=p_value, significant=significant, verdict=verdict)


def proportions_test(groups: Sequence[tuple[int, int]], *, what: str = "rates") -> Test:
    """Whether the proportions successes/n of the groups differ: Pearson's χ² test of homogeneity on the 2 x k table.

    Groups with fewer than MIN_GROUP cases are left out of the test (they are shown, but cannot weigh in).
    """
    table = [(s, n - s) for s, n in groups if n >= MIN_GROUP]
    if len(table) < 2:
        return _untestable(f"Too few groups with {MIN_GROUP} or more cases to compare their {what}.")
    successes = sum(s for s, _ in table)
    failures = sum(f for _, f in table)
    if successes == 0 or failures == 0:
        return _untestable(f"The groups' {what} cannot be compared: every case has the same outcome.")
    result = sps.chi2_contingency([[s for s, _ in table], [f for _, f in table]], correction=False)
    return _verdict("χ² test", float(result.statistic), float(result.pvalue), what)


def means_test(groups: Sequence[Moments], *, what: str = "means") -> Test:
    """Whether the groups' means differ: one-way ANOVA from each group's n, Σx and Σx².

    F = (SS_between / (k - 1)) / (SS_within / (N - k)); p from the F distribution. Groups under MIN_GROUP are left out.
    """
    used = [g for g in groups if g.n >= MIN_GROUP]
    k, n = len(used), sum(g.n for g in used)
    if k < 2 or n <= k:
        return _untestable(f"Too few groups with {MIN_GROUP} or more cases to compare their {what}.")
    grand = sum(g.total for g in used) / n
    between = sum(g.n * (g.mean - grand) ** 2 for g in used)
    within = sum(g.variance * (g.n - 1) for g in used)
    if within <= 0:
        if between <= 0:
            return _untestable(f"The groups' {what} cannot be compared: every value is the same.")
        return _verdict("one-way ANOVA", math.inf, 0.0, what)
    f = (between / (k - 1)) / (within / (n - k))
    return _verdict("one-way ANOVA", f, float(sps.f.sf(f, k - 1, n - k)), what)


@dataclass(frozen=True)
class CorrelationSums:
    """The sums a Pearson correlation needs, as SQL aggregates give them."""

    n: int
    sx: float
    sy: float
    sxx: float
    syy: float
    sxy: float


@dataclass(frozen=True)
class Correlation:
    n: int
    r: float | None
    interval: tuple[float, float] | None
    significant: bool


def pearson(s: CorrelationSums) -> Correlation:
    """Pearson's r = (nΣxy - ΣxΣy) / sqrt((nΣx² - (Σx)²)(nΣy² - (Σy)²)), with its 95% interval by Fisher's z:
    tanh(atanh(r) ± 1.96/√(n-3)). Significant when the interval leaves out 0. None when a variable does not vary.

    With y in {0, 1} (won or lost) this is the point-biserial correlation.
    """
    if s.n < 3:
        return Correlation(n=s.n, r=None, interval=None, significant=False)
    vx = s.n * s.sxx - s.sx * s.sx
    vy = s.n * s.syy - s.sy * s.sy
    # Sums of floats leave a little noise where the variance is really 0.
    if vx <= 1e-9 * max(1.0, s.n * s.sxx) or vy <= 1e-9 * max(1.0, s.n * s.syy):
        return Correlation(n=s.n, r=None, interval=None, significant=False)
    r = max(-1.0, min(1.0, (s.n * s.sxy - s.sx * s.sy) / math.sqrt(vx * vy)))
    if s.n <= 3 or abs(r) >= 1:
        return Correlation(n=s.n, r=r, interval=None, significant=False)
    z, half = math.atanh(r), Z_95 / math.sqrt(s.n - 3)
    low, high = math.tanh(z - half), math.tanh(z + half)
    return Correlation(n=s.n, r=r, interval=(low, high), significant=low > 0 or high < 0)
