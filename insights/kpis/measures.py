"""The KPIs themselves: one function each, over the user's scope, a segment and a period; their registry and the
memory they run with."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection, transaction

from .definitions import KPIS
from .sales_measures import (
    _clv,
    _mqa_rate,
    _pipeline,
    _rejection_reasons,
    _saa_rate,
    _score_to_win,
    _sla_compliance,
    _spend_potential,
    _tier_distribution,
    _tier_movement,
    _win_rate,
)
from .score_measures import (
    _accuracy,
    _conversion,
    _engagement,
    _icp_match,
)
from .shapes import (
    KpiResult,
    Period,
)

COMPUTE = {
    "engagement": _engagement,
    "accuracy": _accuracy,
    "conversion": _conversion,
    "icp_match": _icp_match,
    "clv": _clv,
    "pipeline": _pipeline,
    "mqa_rate": _mqa_rate,
    "saa_rate": _saa_rate,
    "score_to_win": _score_to_win,
    "win_rate": _win_rate,
    "tier_distribution": _tier_distribution,
    "tier_movement": _tier_movement,
    "sla_compliance": _sla_compliance,
    "rejection_reasons": _rejection_reasons,
    "spend_potential": _spend_potential,
}


def kpi_compute(*, key: str, user, segment: str = "", period: Period | None = None) -> KpiResult:
    """One KPI for what `user` may see, by `segment` (one of the KPI's segments; "" for its total, or its fixed
    breakdown if it has one)."""
    kpi = KPIS[key]
    if segment and segment not in kpi.segments:
        raise ValueError(f"{kpi.name} cannot be split by {segment}; choose one of: {', '.join(kpi.segments)}.")
    with kpi_memory():
        return COMPUTE[key](kpi, user=user, segment=segment, period=period or Period())


KPI_WORK_MEM = "64MB"


@contextmanager
def kpi_memory():
    """A transaction whose queries may hash every account at once (PostgreSQL's `work_mem`, for it only).

    A KPI that counts the accounts found in a set (won deals, MQAs) lets PostgreSQL hash that set once; with the
    server's default memory it falls back, past a few hundred thousand accounts, to scanning the set again for
    every account, and an all-time dashboard at a million accounts would take hours instead of seconds.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = %s", [KPI_WORK_MEM])
        yield


def kpi_overview(*, user, period: Period | None = None) -> list[KpiResult]:
    """Every KPI's total (with its fixed breakdown where it has one) for the dashboard."""
    return [kpi_compute(key=key, user=user, period=period) for key in KPIS]
