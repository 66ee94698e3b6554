"""The planted deal set: about 37% won, the stated effects recoverable, the same rows for the same seed, and every
signal before its deal's engaged date."""

import datetime as dt

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from accounts.models import Account, Opportunity, Signal
from insights.recalibration.planted import (
    LEAD_SOURCE,
    NOISE_KIND,
    PLAN,
    SIGNAL_EFFECTS,
    SIGNAL_WINDOW_DAYS,
    planted_create,
)

TODAY = dt.date(2026, 3, 1)


def _rows(planted) -> list[tuple]:
    """What a seed decides, without the ids: per deal its account's values, outcome, dates and signals."""
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=planted.account_ids)}
    deals = {d.pk: d for d in Opportunity.objects.filter(pk__in=planted.deal_ids)}
    signals: dict[int, list] = {}
    for account_id, kind, at in Signal.objects.order_by("occurred_at", "kind").values_list(
        "account_id", "kind", "occurred_at"
    ):
        signals.setdefault(account_id, []).append((kind, at))
    rows = []
    for deal_id, account_id in zip(planted.deal_ids, planted.account_ids, strict=True):
        a, d = accounts[account_id], deals[deal_id]
        rows.append(
            (a.attributes, a.employee_count, a.technologies, a.industry, d.is_won, d.engaged_on, d.closed_on,
             signals.get(account_id, []))
        )  # fmt: skip
    return rows


@pytest.mark.django_db
def test_rates_and_effects():
    planted = planted_create(deals=6000, seed=3, today=TODAY)
    assert len(planted.deal_ids) == Opportunity.objects.filter(is_closed=True).count() == 6000
    won = Opportunity.objects.filter(pk__in=planted.deal_ids, is_won=True).count()
    assert 0.33 <= won / 6000 <= 0.42
    assert won == int(planted.won.sum())
    assert 0.33 <= planted.probability.mean() <= 0.41
    # The true probability ranks well but not perfectly; the model's own variables recover its effects.
    assert 0.72 <= planted.bayes_auc(planted.deal_ids) <= 0.80
    x, names = planted.true_features()
    fit = LogisticRegression(C=1e6, max_iter=2000).fit(x, planted.won)
    coef = dict(zip(names, fit.coef_[0], strict=True))
    assert coef["lead_source=referral"] - coef["lead_source=paid_ads"] == pytest.approx(
        LEAD_SOURCE["referral"] - LEAD_SOURCE["paid_ads"], abs=0.35
    )
    assert coef["plan=enterprise"] - coef["plan=starter"] == pytest.approx(
        PLAN["enterprise"] - PLAN["starter"], abs=0.35
    )
    assert coef["Salesforce"] == pytest.approx(0.7, abs=0.2)
    assert coef["log10 employee_count"] == pytest.approx(0.5, abs=0.15)
    for kind, effect in SIGNAL_EFFECTS.items():
        assert coef[f"{kind} signals"] == pytest.approx(effect, abs=0.15)
    # Deals closed in the past, engaged 10-120 days before.
    deals = Opportunity.objects.filter(pk__in=planted.deal_ids)
    assert all(d.closed_on < TODAY and 10 <= (d.closed_on - d.engaged_on).days <= 120 for d in deals)
    # Noise: four attributes, a signal kind with no effect.
    attributes = Account.objects.get(pk=planted.account_ids[0]).attributes
    assert sorted(attributes) == ["lead_source", "noise_1", "noise_2", "noise_3", "noise_4", "plan"]
    assert Signal.objects.filter(kind=NOISE_KIND).exists()


@pytest.mark.django_db
def test_signals_fall_before_the_engaged_date():
    planted = planted_create(deals=800, seed=5, today=TODAY)
    engaged = dict(Opportunity.objects.filter(pk__in=planted.deal_ids).values_list("account_id", "engaged_on"))
    signals = list(Signal.objects.values_list("account_id", "occurred_at"))
    assert len(signals) > 800
    for account_id, at in signals:
        start = dt.datetime.combine(engaged[account_id], dt.time.min, tzinfo=dt.UTC)
        assert start - dt.timedelta(days=SIGNAL_WINDOW_DAYS) <= at < start
    # The counts the model uses are the rows written.
    pricing = Signal.objects.filter(kind="pricing_page", account_id=planted.account_ids[0]).count()
    assert pricing == planted.truth["pricing_page"][0]


@pytest.mark.django_db
def test_same_seed_same_rows_and_a_loaded_seed_is_refused():
    first = planted_create(deals=300, seed=11, noise_attributes=2, today=TODAY)
    before = _rows(first)
    with pytest.raises(ValueError, match="seed 11 already exist"):
        planted_create(deals=300, seed=11, today=TODAY)
    Account.objects.all().delete()
    again = planted_create(deals=300, seed=11, noise_attributes=2, today=TODAY)
    assert _rows(again) == before
    assert np.array_equal(again.probability, first.probability)
    Account.objects.all().delete()
    other = planted_create(deals=300, seed=12, noise_attributes=2, today=TODAY)
    assert _rows(other) != before
