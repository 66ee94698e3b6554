"""A full rescore's slices (segmentation.services.rescore.rescore_slices) share its work evenly between the workers:
each slice's cost is its accounts (each scored and stored) plus its signals at SIGNAL_COST of an account each, read
from PostgreSQL's statistics. Signals crowd on some accounts (the oldest customers, a campaign's targets): the cuts
follow the cost, not the signals alone."""

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts.models import Account, Signal
from segmentation.services.rescore import SIGNAL_COST, rescore_slices
from tests.conftest import require_postgres

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def cost_of(lo: int, hi: int | None) -> float:
    accounts = Account.objects.filter(pk__gte=lo, **({"pk__lt": hi} if hi is not None else {}))
    signals = Signal.objects.filter(account_id__gte=lo, **({"account_id__lt": hi} if hi is not None else {}))
    return accounts.count() + signals.count() * SIGNAL_COST


@pytest.mark.parametrize("crowded", [30, 300])  # signals on the first 30 accounts, or on the first 300 of 400
def test_the_slices_share_the_accounts_and_signals_evenly(crowded):
    require_postgres()
    accounts = Account.objects.bulk_create([Account(name=f"Account {n:03d}") for n in range(400)])
    at = timezone.now() - dt.timedelta(days=3)
    per_account = 6000 // crowded
    Signal.objects.bulk_create(
        [Signal(account=a, kind="web_visit", occurred_at=at) for a in accounts[:crowded] for _ in range(per_account)]
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Signal._meta.db_table}")
        cursor.execute(f"ANALYZE {Account._meta.db_table}")

    with override_settings(RESCORE_SLICES=4):
        slices = rescore_slices()

    assert len(slices) == 4 and slices[0][0] == 0 and slices[-1][1] is None
    assert all(hi == next_lo for (_, hi), (next_lo, _) in zip(slices, slices[1:], strict=False))
    costs = [cost_of(lo, hi) for lo, hi in slices]
    fair = sum(costs) / 4  # 400 accounts and 6,000 signals: 520 accounts' worth, 130 a slice
    assert all(abs(c - fair) <= 0.2 * fair for c in costs), costs
