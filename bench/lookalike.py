"""Benchmark: the lookalike refresh (segmentation/services/lookalikes.py) over 1,000,000 accounts against 20,000 won
ones (both x BENCH_SCALE), on PostgreSQL.

The world, generated in SQL (seed 0.21): the won accounts of the period (a won deal closed 10-300 days ago), 5,000
accounts won before the period (held out: the refresh never sees them as wins), 15,000 accounts that lost a deal, and
the rest with no deal. Winners look alike: each has, independently, industry Software, 1k-10k employees, and uses
Salesforce and Snowflake (each) with probability 0.6; the others have no preference (one of 8 industries, log-uniform
head counts over 1-300k, each of 10 technologies with probability 0.2). Country, revenue per head, year founded and a
`lead_source` attribute are noise.

Printed, each beside its target:
- the refresh, in a process of its own (as a worker runs it): wall time (<= 120 s) and peak RSS (<= 1 GB);
- a baseline from the same run: the same nearest-neighbour query in plain scikit-learn (NearestNeighbors, brute
  force, euclidean, K + 1 = 6 neighbours) on the same trait matrix, already in memory and dense: no reading, no
  exclusion of the account itself, no reasons, no writing;
- the AUC of the stored scores, held-out wins against losses (target >= 0.8), and the planted structure's ceiling
  (ranking by the true likelihood ratio);
- a check of the stored scores: on a sample, the score recomputed from scikit-learn's cosine neighbours
  (metric="cosine") against the stored one.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import django_on_fresh_database, peak_rss_mb, scale  # noqa: E402

SECONDS_TARGET = 120.0
MEMORY_TARGET_MB = 1024.0
AUC_TARGET = 0.8
DATABASE = "bench_lookalike"
ACCOUNTS, WON, HELD_OUT, LOSSES = 1_000_000, 20_000, 5_000, 15_000
PLANTED = 0.6
INDUSTRIES = ["Software", "Retail", "Finance", "Health", "Energy", "Media", "Education", "Logistics"]
TECHNOLOGIES = ["Salesforce", "HubSpot", "Snowflake", "AWS", "Azure", "SAP", "Oracle", "Zendesk", "Slack", "Jira"]
LIKED = ("Salesforce", "Snowflake")
COUNTRIES = ["United States", "Germany", "France", "Japan", "Brazil", "India", "Canada", "Spain"]
SOURCES = ["partner", "web", "event", "outbound", "referral"]
MAX_LOG = math.log10(300_000)


def sizes() -> dict[str, int]:
    s = scale()
    return {
        "accounts": max(2_000, round(ACCOUNTS * s)),
        "won": max(100, round(WON * s)),
        "held_out": max(50, round(HELD_OUT * s)),
        "losses": max(150, round(LOSSES * s)),
    }


def build(n: dict[str, int]) -> None:
    from django.db import connection

    won_until = n["won"] + n["held_out"]
    params = {
        "n": n["accounts"], "won": n["won"], "winners": won_until, "losers": won_until + n["losses"],
        "industries": INDUSTRIES, "techs": TECHNOLOGIES, "liked": list(LIKED), "countries": COUNTRIES,
        "sources": SOURCES, "p": PLANTED, "maxlog": MAX_LOG,
    }  # fmt: skip
    begin = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.21)")
        cursor.execute(
            "CREATE TEMP TABLE planted AS SELECT g, g <= %(winners)s AS win, "
            "CASE WHEN g <= %(winners)s AND random() < %(p)s THEN 'Software' "
            "ELSE (%(industries)s::text[])[1 + floor(random() * 8)::int] END AS industry, "
            "CASE WHEN g <= %(winners)s AND random() < %(p)s THEN floor(power(10, 3 + random()))::int "
            "ELSE greatest(1, floor(power(10, random() * %(maxlog)s)))::int END AS employees "
            "FROM generate_series(1, %(n)s) g",
            params,
        )
        cursor.execute(
            "INSERT INTO accounts_account (name, external_id, industry, employee_count, annual_revenue, country, "
            "region, city, year_founded, technologies, parent_id, is_customer, attributes, created_at, updated_at) "
            "SELECT 'Company ' || g, 'L' || g, industry, employees, "
            "round((employees * (50000 + random() * 250000))::numeric, 2), "
            "(%(countries)s::text[])[1 + floor(random() * 8)::int], '', '', 1950 + floor(random() * 70)::int, "
            "(SELECT coalesce(jsonb_agg(t), '[]'::jsonb) FROM unnest(%(techs)s::text[]) t "
            " WHERE random() < CASE WHEN NOT win THEN 0.2 WHEN t = ANY(%(liked)s::text[]) THEN %(p)s ELSE 0.15 END "
            " AND g IS NOT NULL), "
            "NULL, false, jsonb_build_object('lead_source', (%(sources)s::text[])[1 + floor(random() * 5)::int]), "
            "now(), now() FROM planted ORDER BY g",
            params,
        )
        # Deals: the period's wins, wins before the period (held out), and losses.
        cursor.execute(
            "INSERT INTO accounts_opportunity (account_id, external_id, name, product, amount, stage, is_closed, "
            "is_won, closed_on, created_at, updated_at) "
            "SELECT a.id, 'D' || a.id, '', '', 1000, "
            "CASE WHEN p.g <= %(winners)s THEN 'Won' ELSE 'Lost' END, true, p.g <= %(winners)s, "
            "current_date - CASE WHEN p.g <= %(won)s THEN 10 + floor(random() * 290)::int "
            "WHEN p.g <= %(winners)s THEN 400 + floor(random() * 300)::int ELSE 10 + floor(random() * 290)::int END, "
            "now(), now() FROM planted p JOIN accounts_account a ON a.external_id = 'L' || p.g "
            "WHERE p.g <= %(losers)s",
            params,
        )
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    print(
        f"set-up: {n['accounts']:,} accounts, {n['won']:,} won in the period, {n['held_out']:,} won before it "
        f"(held out), {n['losses']:,} lost, generated in {time.monotonic() - begin:.1f} s",
        flush=True,
    )


def chunk_size() -> int:
    """`--chunk N`: accounts per chunk (the product's CHUNK by default); a small size runs several chunks."""
    if "--chunk" in sys.argv:
        return int(sys.argv[sys.argv.index("--chunk") + 1])
    from segmentation.services.lookalikes import CHUNK

    return CHUNK


def child_refresh() -> None:
    """The refresh, as a worker runs it, in this process: prints its time and peak RSS as JSON."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from segmentation.services.lookalikes import lookalikes_refresh

    begin = time.monotonic()
    run = lookalikes_refresh(trigger="bench", chunk=chunk_size())
    seconds = time.monotonic() - begin
    rss_mb = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, "won": run.won_accounts, "accounts": run.accounts}))


def main() -> int:
    n = sizes()
    url = django_on_fresh_database(DATABASE)
    build(n)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    command = [sys.executable, __file__, "--child-refresh", "--chunk", str(chunk_size())]
    child = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if child.returncode != 0:
        print(child.stdout[-2000:], child.stderr[-4000:])
        return 1
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"lookalike refresh, in its own process: {measured['accounts']:,} accounts against {measured['won']:,} won "
        f"ones in {measured['seconds']:.1f} s, peak RSS {measured['rss_mb']:.0f} MB",
        flush=True,
    )

    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import NearestNeighbors

    from accounts.models import Account
    from segmentation import lookalike as L
    from segmentation.services.lookalikes import CHUNK, _read_chunk, reference_rows

    # The same matrix, read and encoded outside the clock, for the baseline.
    reference = L.reference_build(reference_rows())
    parts, ids, stored, last = [], [], [], 0
    while True:
        chunk_ids, chunk_stored, traits = _read_chunk(last, CHUNK, reference.vocabulary)
        if not len(chunk_ids):
            break
        last = int(chunk_ids[-1])
        parts.append(L.unit_rows(traits))
        ids.extend(chunk_ids.tolist())
        stored.extend(chunk_stored)
    import scipy.sparse as sp

    matrix = sp.vstack(parts).tocsr()
    points = matrix.toarray()
    begin = time.monotonic()
    index = NearestNeighbors(algorithm="brute", metric="euclidean").fit(reference.matrix.toarray())
    index.kneighbors(points, n_neighbors=L.K + 1)
    baseline = time.monotonic() - begin
    print(
        f"baseline (the same brute-force query in plain scikit-learn, k={L.K + 1}, on the same {matrix.shape[0]:,} x "
        f"{matrix.shape[1]} trait matrix in memory; no reading, re-ranking, reasons or writing): {baseline:.1f} s; "
        f"the refresh takes {measured['seconds'] / baseline:.1f}x the baseline",
        flush=True,
    )

    # Quality: AUC of the stored scores, and the planted ceiling.
    position = {account_id: i for i, account_id in enumerate(ids)}
    groups = dict(Account.objects.filter(external_id__startswith="L").values_list("external_id", "pk"))
    won_until = n["won"] + n["held_out"]
    held = [position[groups[f"L{g}"]] for g in range(n["won"] + 1, won_until + 1)]
    lost = [position[groups[f"L{g}"]] for g in range(won_until + 1, won_until + n["losses"] + 1)]
    scores = np.array([np.nan if s is None else s for s in stored])
    auc = roc_auc_score([1] * len(held) + [0] * len(lost), np.concatenate([scores[held], scores[lost]]))
    rows = {r["id"]: r for r in Account.objects.filter(pk__in=[ids[i] for i in held + lost]).values(*L.COLUMNS)}
    ratios = np.array([_oracle(rows[ids[i]]) for i in held + lost])
    ceiling = roc_auc_score([1] * len(held) + [0] * len(lost), ratios)
    print(f"AUC, {len(held):,} held-out wins against {len(lost):,} losses: {auc:.3f} (planted ceiling {ceiling:.3f})")

    # Closeness to exact neighbours, on a sample.
    rng = np.random.default_rng(5)
    sample = rng.choice(matrix.shape[0], size=min(5_000, matrix.shape[0]), replace=False)
    exact = NearestNeighbors(n_neighbors=L.K + 1, metric="cosine", algorithm="brute").fit(reference.matrix)
    distances, found = exact.kneighbors(matrix[sample])
    own = reference.ids[found] == np.array(ids)[sample][:, None]
    similarity = np.where(own, np.nan, 1 - distances)
    exact_scores = np.array([np.round(100 * np.nanmean(np.sort(row[~np.isnan(row)])[::-1][: L.K]), 1)
                             for row in similarity])  # fmt: skip
    gap = np.abs(exact_scores - scores[sample])
    print(
        f"stored scores against a recomputation with metric=cosine (sample of {len(sample):,}): mean gap "
        f"{gap.mean():.2f} points, 95th percentile {np.percentile(gap, 95):.2f}, equal within 0.1 for "
        f"{np.mean(gap <= 0.1):.0%}"
    )

    checks = {
        f"refresh <= {SECONDS_TARGET:.0f} s": measured["seconds"] <= SECONDS_TARGET,
        "peak memory <= 1 GB": measured["rss_mb"] <= MEMORY_TARGET_MB,
        f"AUC >= {AUC_TARGET}": auc >= AUC_TARGET,
    }
    print("target: " + "; ".join(f"{name}: {'PASS' if ok else 'FAIL'}" for name, ok in checks.items()))
    return 0 if all(checks.values()) else 1


def _oracle(row: dict) -> float:
    """P(traits | won) / P(traits | lost) of the planted structure."""
    ratio = (PLANTED + (1 - PLANTED) / 8) * 8 if row["industry"] == "Software" else 1 - PLANTED
    band = 1 / MAX_LOG
    in_band = 1_000 <= (row["employee_count"] or 0) < 10_000
    ratio *= (PLANTED + (1 - PLANTED) * band) / band if in_band else 1 - PLANTED
    for t in TECHNOLOGIES:
        p_won = PLANTED if t in LIKED else 0.15
        ratio *= p_won / 0.2 if t in (row["technologies"] or []) else (1 - p_won) / 0.8
    return ratio


if __name__ == "__main__":
    if "--child-refresh" in sys.argv:
        child_refresh()
        sys.exit(0)
    sys.exit(main())
