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

    from accounts.generate import generate_data
    from insights.kpis import KPIS, Period, kpi_compute, kpi_overview
    from insights.potential import potential_refresh
    from insights.snapshots import kpi_snapshot_take
    from segmentation.models import ICP, ScoringModel
    from territories.models import Membership, Quota, Territory
    from territories.services import user_create

    n = max(2000, int(1_000_000 * scale()))
    deals = n
    now = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    _, took = timed(lambda: generate_data(accounts=n, signals=0, contacts=0, seed=9))
    print(f"set-up: {n:,} accounts generated in {took:.1f} s")

    territories = [Territory.objects.create(name=f"T{t:02d}") for t in range(50)]
    reps, managers = [], []
    for t, territory in enumerate(territories):
        manager = user_create(username=f"manager{t}", role="manager")
        Membership.objects.create(user=manager, territory=territory, role=Membership.Role.MANAGER)
        managers.append(manager)
        for r in range(10):
            rep = user_create(username=f"rep{t}_{r}", role="rep")
            Membership.objects.create(user=rep, territory=territory, role=Membership.Role.REP)
            reps.append((territory.pk, rep.pk))
        Quota.objects.create(
            territory=territory, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31), amount=5_000_000
        )
    admin = user_create(username="admin", role="admin")
    model = ScoringModel.objects.create(name="Bench", version=1, icp=ICP.objects.create(name="Bench"), status="active")
    slots = len(reps)
    params = {"model": model.pk, "now": now, "slots": slots, "deals": deals}
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE slot AS SELECT generate_series(0, %s) AS slot, unnest(%s::bigint[]) AS territory_id, "
            "unnest(%s::int[]) AS user_id",
            [slots - 1, [t for t, _ in reps], [u for _, u in reps]],
        )
        # Each account to a territory and one of its reps, by id.
        cursor.execute(
            "UPDATE accounts_account a SET territory_id = s.territory_id, owner_id = s.user_id "
            "FROM slot s WHERE s.slot = a.id %% %(slots)s",
            params,
        )
        cursor.execute(
            "INSERT INTO segmentation_accountscore (account_id, model_id, fit, signal, coverage, unified, tier, "
            "tier_since, flags, matched, excluded, personas, as_of, computed_at) "
            "SELECT id, %(model)s, f, sg, 0.5, round((0.6 * f + 0.3 * sg + 5)::numeric, 1), "
            "CASE WHEN 0.6 * f + 0.3 * sg + 5 >= 75 THEN 'tier_1' WHEN 0.6 * f + 0.3 * sg + 5 >= 55 THEN 'tier_2' "
            "WHEN 0.6 * f + 0.3 * sg + 5 >= 35 THEN 'tier_3' WHEN id %% 50 = 0 THEN 'suppress' ELSE 'recycle' END, "
            "%(now)s, '{}', '{}', '{}', '{}', %(now)s, %(now)s "
            "FROM (SELECT id, round((random() * 100)::numeric, 1)::float AS f, "
            "round((random() * 100)::numeric, 1)::float AS sg FROM accounts_account) x",
            params,
        )
        # Deals: 70% closed over the last two years, won with a probability rising with the score; 30% open.
        cursor.execute(
            "INSERT INTO accounts_opportunity (account_id, external_id, name, product, amount, stage, is_closed, "
            "is_won, engaged_on, closed_on, owner_id, created_at, updated_at) "
            "SELECT a.id, 'D' || g, '', 'P', (1000 + (g %% 50) * 200)::numeric, "
            "CASE WHEN g %% 10 < 7 THEN CASE WHEN random() < 0.2 + s.unified / 200 THEN 'Won' ELSE 'Lost' END "
            "ELSE 'Engaging' END, g %% 10 < 7, false, NULL, "
            "CASE WHEN g %% 10 < 7 THEN DATE '2026-06-01' - (g %% 730) END, a.owner_id, %(now)s, %(now)s "
            "FROM generate_series(1, %(deals)s) g "
            "JOIN accounts_account a "
            "ON a.id = (SELECT min(id) FROM accounts_account) + (g::bigint * 7919) %% %(deals)s "
            "JOIN segmentation_accountscore s ON s.account_id = a.id",
            params,
        )
        cursor.execute("UPDATE accounts_opportunity SET is_won = true WHERE stage = 'Won'")
        cursor.execute(
            "INSERT INTO segmentation_mqa (account_id, model_id, qualified_at, tier, fit, signal, coverage, unified, "
            "status, decided_at) SELECT account_id, %(model)s, %(now)s - (account_id %% 365) * interval '1 day', "
            "tier, fit, signal, coverage, unified, "
            "(ARRAY['open', 'accepted', 'accepted', 'rejected'])[1 + account_id %% 4], NULL "
            "FROM segmentation_accountscore WHERE account_id %% 10 = 0",
            params,
        )
        cursor.execute(
            "INSERT INTO territories_handoff (account_id, mqa_id, territory_id, owner_id, tier, assigned_at, "
            "accept_due_at, status, decided_at, reason, note, created_at) "
            "SELECT m.account_id, m.id, a.territory_id, a.owner_id, m.tier, m.qualified_at, "
            "m.qualified_at + interval '24 hours', CASE WHEN m.status = 'open' THEN 'pending' ELSE m.status END, "
            "CASE WHEN m.status = 'open' THEN NULL ELSE m.qualified_at + (m.account_id %% 48) * interval '1 hour' END, "
            "CASE WHEN m.status = 'rejected' THEN (ARRAY['not_icp', 'no_budget', 'bad_timing'])[1 + m.id %% 3] "
            "ELSE '' END, '', m.qualified_at FROM segmentation_mqa m JOIN accounts_account a ON a.id = m.account_id",
            params,
        )
        cursor.execute(
            "INSERT INTO segmentation_tierchange (account_id, model_id, from_tier, to_tier, reason, fit, signal, "
            "unified, at) SELECT account_id, %(model)s, 'tier_3', tier, 'bench', fit, signal, unified, "
            "%(now)s - (account_id %% 180) * interval '1 day' FROM segmentation_accountscore WHERE account_id %% 5 = 0",
            params,
        )
        cursor.execute("ANALYZE")  # as autovacuum would after such loads
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE is_closed) FROM accounts_opportunity")
        total_deals, closed = cursor.fetchone()
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
