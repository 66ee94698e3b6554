"""Benchmark: assign owners for 100,000 accounts over 50 territories and 500 reps (target <= 20 s).

Territories: 7 countries, 19 regions below them, 19 enterprise segments below those (employees >= 1,000),
4 industry overlays and one named-accounts territory (50); 10 reps each, half round robin and half load
balanced, some with capacities and some away. Prints the time of the first full run (every account
moves) and of a second run (nothing left to move), and the baseline of a plain in-SQL territory-by-country
update.
"""

from __future__ import annotations

import datetime as dt
import time

from _common import django_on_fresh_database, scale


def main() -> None:
    django_on_fresh_database("revops_bench_assign")
    from django.db import connection

    from accounts.generate import COUNTRIES, generate_data
    from accounts.models import Account
    from territories.models import Membership, Territory
    from territories.services import assignment_apply, assignment_plan_all, user_create

    n_accounts = max(1000, int(100_000 * scale()))
    generate_data(accounts=n_accounts, signals=0, contacts=0, seed=11)
    territories = []
    for c, (country, regions, _) in enumerate(COUNTRIES):
        parent = Territory.objects.create(
            name=country, priority=100, criteria=[{"attribute": "country", "operator": "eq", "value": country}]
        )
        territories.append(parent)
        for region in regions:
            child = Territory.objects.create(
                name=f"{country} / {region}",
                parent=parent,
                priority=50,
                strategy="load_balanced" if c % 2 else "round_robin",
                criteria=[
                    {"attribute": "country", "operator": "eq", "value": country},
                    {"attribute": "region", "operator": "eq", "value": region},
                ],
            )
            territories.append(child)
            territories.append(
                Territory.objects.create(
                    name=f"{country} / {region} / enterprise",
                    parent=child,
                    priority=10,
                    criteria=[*child.criteria, {"attribute": "employee_count", "operator": "gte", "value": 1000}],
                )
            )
    for industry in ("software", "fintech", "healthcare", "energy"):  # overlays, outranked by the regional ones
        territories.append(
            Territory.objects.create(
                name=f"Global {industry}",
                priority=200,
                criteria=[{"attribute": "industry", "operator": "eq", "value": industry}],
            )
        )
    strategic = Territory.objects.create(name="Strategic", priority=1)
    strategic.named_accounts.set(Account.objects.order_by("id").values_list("id", flat=True)[:500])
    territories.append(strategic)
    today = dt.datetime.now(dt.UTC).date()
    memberships = []
    for t_index, territory in enumerate(territories):
        for r in range(10):
            rep = user_create(username=f"rep-{t_index}-{r}", role="rep")
            memberships.append(
                Membership(
                    user=rep,
                    territory=territory,
                    max_accounts=(200 + 50 * r) if r % 3 == 0 else None,
                    away_from=today if r == 9 else None,
                    away_until=today + dt.timedelta(days=5) if r == 9 else None,
                )
            )
    Membership.objects.bulk_create(memberships)
    print(f"  setup: {n_accounts:,} accounts, {len(territories)} territories, {len(memberships)} reps")

    started = time.perf_counter()
    plan, result = assignment_apply(user=None)
    first = time.perf_counter() - started
    print(
        f"  first run: {plan.considered:,} accounts, {result.moved:,} moved, {plan.unassigned:,} unassigned in "
        f"{first:.1f} s ({plan.considered / first:,.0f} accounts/s; target <= 20 s)"
    )
    started = time.perf_counter()
    again = assignment_plan_all()
    second = time.perf_counter() - started
    print(f"  second run (nothing to move: {len(again.moves)} moves): {second:.1f} s")

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_account a SET territory_id = t.id FROM territories_territory t WHERE t.name = a.country"
        )
    baseline = time.perf_counter() - started
    print(f"  baseline (one SQL UPDATE by country, no owners, no log): {baseline:.1f} s")


if __name__ == "__main__":
    print("bench/assign: owner assignment on PostgreSQL")
    main()
