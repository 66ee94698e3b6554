"""Benchmark: assign owners for 100,000 accounts over 50 territories and 500 reps (target <= 20 s, peak RSS <= 300 MB
at any size), and the assignment preview read page by page.

Territories: 7 countries, 19 regions below them, 19 enterprise segments below those (employees >= 1,000),
4 industry overlays and one named-accounts territory (50); 10 reps each, half round robin and half load
balanced, some with capacities and some away. Each run is a process of its own (bench/_assign_run.py), as a worker
runs it, alone (concurrency 1), with the broker the settings name. Prints:
- the first full run (every account moves): time and peak RSS, beside the start-up RSS of the same process;
- a second run (nothing left to move);
- the preview prepared (stored) and its pages read through the page and the API (p95, first to last page), beside
  reading the last page by OFFSET;
- the same full run over 3x the accounts: time and peak RSS (memory flat, time linear);
- the baseline: a plain in-SQL territory-by-country update.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time

from _common import ROOT, django_on_fresh_database, scale

TARGET_SECONDS = 20.0
TARGET_RSS_MB = 300.0


def run_alone(what: str, *extra: str) -> dict:
    """bench/_assign_run.py in a process of its own, as in production (DEBUG off: no query log); its JSON figures."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "_assign_run.py"), what, *extra],
        cwd=ROOT, env={**os.environ, "DEBUG": "false"}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"{what} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def p95_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))] * 1000


def reset_assignment(connection) -> None:
    """Every account back to no owner and no territory, rotations back to the start: the next run moves them all."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_account SET owner_id = NULL, territory_id = NULL")
        cursor.execute("UPDATE territories_territory SET rotation_last_user_id = NULL")
        cursor.execute("UPDATE territories_membership SET rotation_credit = 0, last_assigned_at = NULL")
        cursor.execute("VACUUM ANALYZE accounts_account")


def build_world(n_accounts: int) -> str:
    """The accounts, territories and reps; returns an admin's username."""
    from accounts.generate import COUNTRIES, generate_data
    from accounts.models import Account
    from territories.models import Membership, Territory
    from territories.services import user_create

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
    user_create(username="bench-admin", role="admin")
    print(f"  setup: {n_accounts:,} accounts, {len(territories)} territories, {len(memberships)} reps")
    return "bench-admin"


def read_pages(admin: str, preview_id: int) -> None:
    """The preview page and API, first to last page, as the admin sees them; beside the last page read by OFFSET."""
    from django.contrib.auth.models import User
    from django.test import Client

    from territories.models import AssignmentPreview, PlannedMove
    from territories.views import MOVES_PER_PAGE

    preview = AssignmentPreview.objects.get(pk=preview_id)
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username=admin))
    client.get("/territories/assignment/")  # warmed up: templates loaded, connections open
    pages = max(1, -(-preview.move_count // MOVES_PER_PAGE))
    wanted = sorted({1, 2, pages // 4, pages // 2, 3 * pages // 4, pages - 1, pages} - {0})
    samples, api_samples = [], []
    for _ in range(3):
        for number in wanted:
            started = time.perf_counter()
            response = client.get(f"/territories/assignment/?page={number}")
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200 and "Moves " in response.content.decode(), response.status_code
            started = time.perf_counter()
            response = client.get(f"/api/v1/assignments/preview/?page={number}&page_size={MOVES_PER_PAGE}")
            api_samples.append(time.perf_counter() - started)
            assert response.status_code == 200 and response.json()["page"] == number, response.status_code
    offset_samples = []
    for _ in range(5):
        started = time.perf_counter()
        list(PlannedMove.objects.filter(preview=preview).order_by("position")[
            (pages - 1) * MOVES_PER_PAGE : pages * MOVES_PER_PAGE
        ])  # fmt: skip
        offset_samples.append(time.perf_counter() - started)
    print(
        f"  preview page ({preview.move_count:,} moves, {pages:,} pages of {MOVES_PER_PAGE}; pages 1 to {pages:,}): "
        f"p95 {p95_ms(samples):.0f} ms; API p95 {p95_ms(api_samples):.0f} ms over {len(samples)} reads each "
        f"(target p95 <= 150 ms, as the account list); baseline: the last page's rows read by OFFSET "
        f"{statistics.median(offset_samples) * 1000:.0f} ms"
    )


def main() -> None:
    django_on_fresh_database("revops_bench_assign")
    from django.db import connection

    from accounts.generate import generate_data
    from territories.services import assignment_plan_all

    n_accounts = max(1000, int(100_000 * scale()))
    admin = build_world(n_accounts)
    connection.close()  # the runs are processes of their own

    first = run_alone("apply")
    print(
        f"  first run: {first['considered']:,} accounts, {first['moved']:,} moved, {first['unassigned']:,} unassigned "
        f"in {first['seconds']:.1f} s ({first['considered'] / first['seconds']:,.0f} accounts/s; target <= "
        f"{TARGET_SECONDS:.0f} s); peak RSS {first['peak_rss_mb']:.0f} MB (target <= {TARGET_RSS_MB:.0f} MB; the "
        f"same process before the run: {first['rss_before_mb']:.0f} MB)"
    )
    started = time.perf_counter()
    again = assignment_plan_all()
    second = time.perf_counter() - started
    print(f"  second run (nothing to move: {again.move_count} moves): {second:.1f} s")

    reset_assignment(connection)
    connection.close()
    prepared = run_alone("preview", "--user", admin)
    print(
        f"  preview prepared and stored: {prepared['moved']:,} moves of {prepared['considered']:,} accounts in "
        f"{prepared['seconds']:.1f} s; peak RSS {prepared['peak_rss_mb']:.0f} MB (target <= {TARGET_RSS_MB:.0f} MB)"
    )
    read_pages(admin, prepared["preview"])

    generate_data(accounts=2 * n_accounts, signals=0, contacts=0, seed=12)
    reset_assignment(connection)
    connection.close()
    triple = run_alone("apply")
    print(
        f"  full run over 3x the accounts: {triple['considered']:,} accounts in {triple['seconds']:.1f} s "
        f"({triple['seconds'] / first['seconds']:.2f}x the time of 1x: linear is 3x); peak RSS "
        f"{triple['peak_rss_mb']:.0f} MB against {first['peak_rss_mb']:.0f} MB at 1x "
        f"({triple['peak_rss_mb'] / first['peak_rss_mb']:.2f}x; target <= {TARGET_RSS_MB:.0f} MB, flat)"
    )

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_account a SET territory_id = t.id FROM territories_territory t WHERE t.name = a.country"
        )
    baseline = time.perf_counter() - started
    print(
        f"  baseline (one SQL UPDATE by country over {triple['considered']:,} accounts, no owners, no log): "
        f"{baseline:.1f} s"
    )


if __name__ == "__main__":
    print("bench/assign: owner assignment on PostgreSQL")
    main()
