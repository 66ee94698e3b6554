"""The KPI statistics from counts and sums equal the textbook results computed from the raw values."""

import math
import random

import numpy as np
import pytest
from scipy import stats as sps

from core.stats import (
    CorrelationSums,
    Moments,
    mean_interval,
    means_test,
    pearson,
    proportions_test,
    wilson_interval,
)


def moments(values) -> Moments:
    return Moments(n=len(values), total=float(sum(values)), squares=float(sum(v * v for v in values)))


def test_wilson_interval_known_values():
    assert wilson_interval(0, 0) is None
    low, high = wilson_interval(5, 10)
    assert (round(low, 2), round(high, 2)) == (23.66, 76.34)
    low, high = wilson_interval(0, 4)
    assert low == 0 and 0 < high < 60


def test_mean_interval_equals_scipy():
    rng = random.Random(3)
    values = [rng.gauss(50, 12) for _ in range(40)]
    low, high = mean_interval(moments(values))
    want = sps.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=sps.sem(values))
    assert (low, high) == pytest.approx(want)
    assert mean_interval(moments([3.0])) is None


def test_means_test_equals_scipy_anova():
    rng = random.Random(4)
    groups = [[rng.gauss(mu, 5) for _ in range(30)] for mu in (10, 10.5, 14)]
    result = means_test([moments(g) for g in groups])
    want = sps.f_oneway(*groups)
    assert result.statistic == pytest.approx(want.statistic)
    assert result.p_value == pytest.approx(want.pvalue)
    assert result.significant
    same = [[rng.gauss(10, 5) for _ in range(30)] for _ in range(3)]
    flat = means_test([moments(g) for g in same])
    assert flat.p_value == pytest.approx(sps.f_oneway(*same).pvalue)
    assert flat.p_value > 0.05 and not flat.significant and "not significant" in flat.verdict


def test_proportions_test_equals_chi_square_and_reads_flat_as_flat():
    result = proportions_test([(30, 100), (60, 100)])
    want = sps.chi2_contingency([[30, 60], [70, 40]], correction=False)
    assert result.p_value == pytest.approx(want.pvalue)
    assert result.significant and "more than chance" in result.verdict
    flat = proportions_test([(50, 100), (52, 100), (49, 100)])
    assert not flat.significant and "not significant" in flat.verdict
    tiny = proportions_test([(1, 2), (3, 4)])
    assert not tiny.significant and "Too few groups" in tiny.verdict
    same = proportions_test([(10, 10), (20, 20)])
    assert not same.significant and "same outcome" in same.verdict


def test_pearson_equals_numpy_with_fisher_interval():
    rng = random.Random(5)
    x = [rng.uniform(0, 100) for _ in range(200)]
    y = [1.0 if rng.random() < xi / 100 else 0.0 for xi in x]
    sums = CorrelationSums(
        n=len(x),
        sx=sum(x),
        sy=sum(y),
        sxx=sum(v * v for v in x),
        syy=sum(v * v for v in y),
        sxy=sum(a * b for a, b in zip(x, y, strict=True)),
    )
    c = pearson(sums)
    r = np.corrcoef(x, y)[0, 1]
    assert c.r == pytest.approx(r)
    half = 1.959963984540054 / math.sqrt(len(x) - 3)
    assert c.interval == pytest.approx((math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half)))
    assert c.significant
    constant = pearson(CorrelationSums(n=5, sx=5, sy=2, sxx=5, syy=2, sxy=2))
    assert constant.r is None and not constant.significant
