"""The scored world the KPI and page benchmarks share: `n` accounts over 50 territories (a manager and 10 reps each,
a quota each), one active model with a score per account, `n` deals (70% closed over two years, won more often the
higher the score; 30% open), an MQA and a handoff for one account in ten, a tier move for one in five. Loaded with
hand-written SQL (the loads are the set-up, not what is measured), then vacuumed and analyzed as autovacuum would."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass


@dataclass
class World:
    n: int
    admin: object
    managers: list
    reps: list  # (territory id, user id)
    model: object
    deals: int
    closed: int


def build_world(n: int) -> World:
    from django.db import connection

    from accounts.generate import generate_data
    from segmentation.models import ICP, ScoringModel
    from territories.models import Membership, Quota, Territory
    from territories.services import user_create

    deals = n
    now = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    begin = time.monotonic()
    generate_data(accounts=n, signals=0, contacts=0, seed=9)
    print(f"set-up: {n:,} accounts generated in {time.monotonic() - begin:.1f} s")

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
            "accept_due_at, status, decided_at, reason, note, created_at, updated_at) "
            "SELECT m.account_id, m.id, a.territory_id, a.owner_id, m.tier, m.qualified_at, "
            "m.qualified_at + interval '24 hours', CASE WHEN m.status = 'open' THEN 'pending' ELSE m.status END, "
            "CASE WHEN m.status = 'open' THEN NULL ELSE m.qualified_at + (m.account_id %% 48) * interval '1 hour' END, "
            "CASE WHEN m.status = 'rejected' THEN (ARRAY['not_icp', 'no_budget', 'bad_timing'])[1 + m.id %% 3] "
            "ELSE '' END, '', m.qualified_at, m.qualified_at "
            "FROM segmentation_mqa m JOIN accounts_account a ON a.id = m.account_id",
            params,
        )
        cursor.execute(
            "INSERT INTO segmentation_tierchange (account_id, model_id, from_tier, to_tier, reason, fit, signal, "
            "unified, at) SELECT account_id, %(model)s, 'tier_3', tier, 'bench', fit, signal, unified, "
            "%(now)s - (account_id %% 180) * interval '1 day' FROM segmentation_accountscore WHERE account_id %% 5 = 0",
            params,
        )
        # As autovacuum does after such loads (its insert threshold, PostgreSQL 13+): statistics, and the visibility
        # map that lets counts read an index alone.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")  # the load's dirty pages written now, not during the first measure
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE is_closed) FROM accounts_opportunity")
        total_deals, closed = cursor.fetchone()
    return World(n=n, admin=admin, managers=managers, reps=reps, model=model, deals=total_deals, closed=closed)
