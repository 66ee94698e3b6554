"""Benchmark: the KPI dashboard at 1,000,000 accounts.

1,000,000 scored accounts over 50 territories and 500 reps, 1,000,000 deals (700,000 closed, won more often the
higher the account's score; 300,000 open), 100,000 MQAs with their handoffs, 200,000 tier moves, a quota per
territory. Prints the time of the dashboard (every KPI's total; all time, the page's default, and the last 365 days)
for an admin, a manager and a rep, of each KPI split
by each segment for the admin, of the daily snapshot and of the spend-potential refresh; and the baseline: the
dashboard's win rate by industry as one hand-written SQL statement, against the product's page for that split.
BENCH_SCALE=0.01 runs it at 1% of the size.
"""

from __future__ import annotations

import datetime as dt
import time

from _common import django_on_fresh_database, scale
from _world import build_world


def timed(fn):
    begin = time.monotonic()
    value = fn()
    return value, time.monotonic() - begin


def main() -> None:
    django_on_fresh_database("revops_bench_kpis")
    import logging

    logging.getLogger("celery").setLevel(logging.WARNING)  # the membership hooks' eager tasks, one line each
    from django.contrib.auth.models import User
    from django.db import connection

    from insights.kpis import KPIS, Period, kpi_compute, kpi_overview
    from insights.potential import potential_refresh
    from insights.snapshots import kpi_snapshot_take

    n = max(2000, int(1_000_000 * scale()))
    world = build_world(n)
    admin, reps, total_deals, closed, slots = world.admin, world.reps, world.deals, world.closed, len(world.reps)
    print(f"{n:,} scored accounts, {total_deals:,} deals ({closed:,} closed), 50 territories, {slots} reps")

    year = Period(dt.date(2025, 6, 2), dt.date(2026, 6, 1))
    manager = User.objects.get(username="manager0")
    rep = User.objects.get(pk=reps[0][1])
    results = {}
    for label, user in (("admin", admin), ("manager", manager), ("rep", rep)):
        # All time is the page's default; the last 365 days are the preset most people pick.
        _, took = timed(lambda user=user: kpi_overview(user=user))
        print(f"dashboard (every KPI's total, all time) for the {label}: {took:.2f} s")
        overview, took = timed(lambda user=user: kpi_overview(user=user, period=year))
        results[label] = overview
        print(f"dashboard (every KPI's total, last 365 days) for the {label}: {took:.2f} s")
    cards = sorted((timed(lambda key=key: kpi_compute(key=key, user=admin))[1], key) for key in KPIS)
    print(
        f"dashboard cards for the admin (each fetched on its own once the page has painted): slowest "
        f"{cards[-1][1]} {cards[-1][0]:.2f} s, median {cards[len(cards) // 2][0]:.2f} s, "
        f"{sum(1 for took, _ in cards if took <= 1)} of {len(cards)} within 1 s"
    )
    slowest = []
    for key, kpi in KPIS.items():
        for segment in kpi.segments:
            _, took = timed(
                lambda key=key, segment=segment: kpi_compute(key=key, user=admin, segment=segment, period=year)
            )
            slowest.append((took, f"{key} by {segment}"))
    slowest.sort(reverse=True)
    print(
        f"every KPI split by every segment for the admin: {len(slowest)} splits in {sum(t for t, _ in slowest):.2f} s; "
        f"slowest {slowest[0][1]} {slowest[0][0]:.2f} s, median {slowest[len(slowest) // 2][0]:.2f} s"
    )
    win = kpi_compute(key="win_rate", user=admin, segment="industry", period=year)
    page, took = timed(lambda: kpi_compute(key="win_rate", user=admin, segment="industry", period=year))
    with connection.cursor() as cursor:
        begin = time.monotonic()
        cursor.execute(
            "SELECT a.industry, count(*) FILTER (WHERE o.is_won), count(*) FROM accounts_opportunity o "
            "JOIN accounts_account a ON a.id = o.account_id WHERE o.is_closed AND o.closed_on BETWEEN %s AND %s "
            "GROUP BY a.industry",
            [year.start, year.end],
        )
        baseline_rows = {industry: (won, n) for industry, won, n in cursor.fetchall()}
        baseline = time.monotonic() - begin
    assert {r.label: (r.extra["successes"], r.n) for r in win.rows} == baseline_rows, "the page and SQL disagree"
    print(
        f"win rate by industry: page {took:.2f} s, baseline (one hand-written SQL) {baseline:.2f} s; "
        f"ratio {took / max(baseline, 1e-6):.1f}x"
    )
    written, took = timed(kpi_snapshot_take)
    print(f"daily snapshot: {written:,} snapshots in {took:.2f} s")
    summary, took = timed(potential_refresh)
    print(f"spend potential refresh: {n:,} accounts in {took:.2f} s")
    win_total = next(r for r in results["admin"] if r.kpi.key == "win_rate").total
    print(f"admin's win rate {win_total.value:.1f}% over {win_total.n:,} deals closed in the last 365 days")


if __name__ == "__main__":
    main()
