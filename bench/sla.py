"""Benchmark: the SLA sweep over 100,000 pending handoffs (target <= 2 s).

100,000 accounts, each with an open MQA handed to one of 200 reps over 20 territories; a tenth of the handoffs are
overdue, spread over the three tiers (one breach action each: notify the manager, reassign, recycle). Prints the
sweep's time (claiming the overdue ones and running their actions; the emails go to a task queue), a second
sweep's (nothing new), the number of breaches per action, and the baseline: one plain UPDATE marking the overdue
handoffs breached.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from urllib.parse import urlsplit, urlunsplit

from _common import django_on_fresh_database, scale


def main() -> None:
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url.startswith("redis://"):  # the breach emails are queued on a database of their own
        os.environ["REDIS_URL"] = urlunsplit(urlsplit(redis_url)._replace(path="/8"))
    django_on_fresh_database("revops_bench_sla")
    from django.db import connection

    from accounts.generate import generate_data
    from handoffs.models import Handoff, SlaPolicy
    from handoffs.services import sla_sweep
    from segmentation.models import ICP, ScoringModel
    from territories.models import Membership, Territory
    from territories.services import user_create

    n = max(1000, int(100_000 * scale()))
    now = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    generate_data(accounts=n, signals=0, contacts=0, seed=5)
    territories = [Territory.objects.create(name=f"T{t}") for t in range(20)]
    reps = []
    for t, territory in enumerate(territories):
        manager = user_create(username=f"manager{t}", role="manager", email=f"manager{t}@example.com")
        Membership.objects.create(user=manager, territory=territory, role=Membership.Role.MANAGER)
        for r in range(10):
            rep = user_create(username=f"rep{t}_{r}", role="rep", email=f"rep{t}_{r}@example.com")
            Membership.objects.create(user=rep, territory=territory, role=Membership.Role.REP)
            reps.append((territory.pk, rep.pk))
    for tier, action in (("tier_1", "notify_manager"), ("tier_2", "reassign"), ("tier_3", "recycle")):
        SlaPolicy.objects.update_or_create(
            tier=tier, defaults={"accept_within_hours": 24, "calendar": "24x7", "breach_action": action}
        )
    model = ScoringModel.objects.create(name="Bench", version=1, icp=ICP.objects.create(name="Bench"))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO segmentation_mqa (account_id, model_id, qualified_at, tier, fit, signal, coverage, unified, "
            "status) SELECT id, %s, %s, (ARRAY['tier_1', 'tier_2', 'tier_3'])[1 + id %% 3], 80, 40, 0.5, 66, 'open' "
            "FROM accounts_account",
            [model.pk, now - dt.timedelta(days=2)],
        )
        # One rep per account (by id); every tenth handoff is an hour overdue, the rest due tomorrow.
        cursor.execute(
            "INSERT INTO territories_handoff (account_id, mqa_id, territory_id, owner_id, tier, assigned_at, "
            "accept_due_at, status, reason, note, created_at, updated_at) "
            "SELECT m.account_id, m.id, r.territory_id, r.user_id, m.tier, %s, "
            "CASE WHEN m.id %% 10 = 0 THEN %s::timestamptz ELSE %s::timestamptz END, 'pending', '', '', %s, %s "
            "FROM segmentation_mqa m JOIN (SELECT unnest(%s::bigint[]) AS territory_id, unnest(%s::int[]) AS user_id, "
            "generate_series(0, %s) AS slot) r ON r.slot = m.account_id %% %s",
            [
                now - dt.timedelta(hours=25),
                now - dt.timedelta(hours=1),
                now + dt.timedelta(hours=23),
                now - dt.timedelta(hours=25),
                now - dt.timedelta(hours=25),
                [t for t, _ in reps],
                [u for _, u in reps],
                len(reps) - 1,
                len(reps),
            ],
        )
        cursor.execute("ANALYZE territories_handoff")
    pending = Handoff.objects.filter(status="pending").count()
    overdue = Handoff.objects.filter(status="pending", accept_due_at__lt=now).count()
    print(f"{pending:,} pending handoffs, {overdue:,} overdue, 20 territories, {len(reps)} reps")

    begin = time.monotonic()
    result = sla_sweep(now=now)
    took = time.monotonic() - begin
    print(
        f"sweep: {result.breached:,} breaches in {took:.2f} s ({len(result.notified):,} managers' emails queued, "
        f"{len(result.reassigned):,} reassigned, {len(result.recycled):,} recycled)"
    )
    begin = time.monotonic()
    again = sla_sweep(now=now + dt.timedelta(minutes=1))
    print(f"second sweep a minute later: {again.breached} new breaches in {time.monotonic() - begin:.2f} s")
    breached = Handoff.objects.filter(breached_at__isnull=False).count()
    assert breached == overdue == result.breached, (breached, overdue, result.breached)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE territories_handoff SET breached_at = NULL")
        begin = time.monotonic()
        cursor.execute(
            "UPDATE territories_handoff SET breached_at = %s WHERE status = 'pending' AND accept_due_at < %s",
            [now, now],
        )
        baseline = time.monotonic() - begin
    print(f"baseline (one plain UPDATE marking them): {baseline:.2f} s; ratio {took / max(baseline, 1e-6):.1f}x")
    print(f"target: sweep <= 2 s: {took <= 2.0}")


if __name__ == "__main__":
    main()
