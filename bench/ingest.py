"""Benchmark: signal ingestion, POST /api/v1/signals/ in batches of 500, over HTTP under the production server
(target: >= 5,000 signals/s).

100,000 accounts; gunicorn as the Procfile runs it (production settings, gunicorn.conf.py's workers) on PostgreSQL and
Redis; clients with an API token post batches of new signals (external ids) at concurrency 1 and 8: first with no
active scoring model, then with one (each batch also queues its accounts for rescoring, in the same transaction);
then every batch again (the idempotent re-post: nothing new is written). Every batch must answer 201 (200 for the
re-post) and every signal must be stored exactly once. The baseline: the same rows as plain INSERTs, one statement per
batch of 500, over 1 and 8 connections, with no validation. BENCH_SCALE=0.01 runs it at 1% of the size.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import threading

from _common import scale
from _server import ProductionServer, django_for_production_server, fetch, in_threads

BATCH = 500
TARGET = 5_000
CONCURRENCY = (1, 8)


def post_all(url: str, headers: dict, bodies: list[bytes], *, clients: int, expected: int) -> tuple[float, list]:
    """Post every body, `clients` at a time; (wall seconds, batch latencies in ms). Exits on any other answer."""
    queue = list(reversed(bodies))
    lock = threading.Lock()
    latencies: list[float] = []
    refused: list[str] = []

    def client() -> None:
        while True:
            with lock:
                if not queue or refused:
                    return
                body = queue.pop()
            status, took, _ = fetch(url, headers, body)
            with lock:
                latencies.append(took)
                if status != expected:
                    refused.append(f"answered {status}, expected {expected}")

    wall = in_threads(client, clients)
    if refused:
        sys.exit(f"a batch {refused[0]}")
    return wall, latencies


def insert_all(url: str, batches: list[list[dict]], *, connections: int) -> float:
    """The baseline: each batch as one plain INSERT, `connections` at a time, each in its own transaction."""
    import psycopg

    queue = list(reversed(batches))
    lock = threading.Lock()

    def client() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while True:
                with lock:
                    if not queue:
                        return
                    rows = queue.pop()
                conn.execute(
                    "INSERT INTO accounts_signal (account_id, kind, topic, occurred_at, source, external_id, "
                    "created_at) SELECT unnest(%s::bigint[]), 'web_visit', 'pricing', unnest(%s::timestamptz[]), "
                    "'baseline', unnest(%s::text[]), now()",
                    [[r["account"] for r in rows], [r["occurred_at"] for r in rows], [r["external_id"] for r in rows]],
                )

    return in_threads(client, connections)


def main() -> None:
    url = django_for_production_server("revops_ingest_bench", redis_db=int(os.environ.get("BENCH_REDIS_DB", "9")))
    from accounts.generate import generate_data
    from accounts.models import Account, PendingRescore, Signal
    from core.tokens import token_create
    from segmentation.models import ICP, ScoringModel
    from territories.services import user_create

    n_accounts = max(1000, int(100_000 * scale()))
    per_run = max(8, int(40 * scale()))  # batches per measure
    generate_data(accounts=n_accounts, signals=0, contacts=0, seed=7)
    account_ids = list(Account.objects.values_list("id", flat=True))
    admin = user_create(username="ingest-admin", role="admin")
    token = token_create(admin, name="ingest benchmark", days=1)[1]
    now = dt.datetime.now(dt.UTC)
    serial = iter(range(10**9))

    def batch() -> list[dict]:
        b = next(serial)
        return [
            {
                "account": account_ids[(b * 7919 + i * 31) % len(account_ids)],
                "kind": "web_visit",
                "topic": "pricing",
                "occurred_at": (now - dt.timedelta(minutes=b * BATCH + i)).isoformat(),
                "source": "bench",
                "external_id": f"bench-{b}-{i}",
            }
            for i in range(BATCH)
        ]

    def line(label: str, batches: int, wall: float, latencies: list[float]) -> float:
        rate = batches * BATCH / wall
        p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
        verdict = "within" if rate >= TARGET else "UNDER"
        print(
            f"{label}: {batches * BATCH:,} signals in {batches} batches: {wall:.1f} s, {rate:,.0f} signals/s "
            f"(target >= {TARGET:,}: {verdict}), p95 batch {p95:.0f} ms"
        )
        return rate

    server = ProductionServer()
    print(f"{n_accounts:,} accounts; gunicorn with the production settings, {server.workers} workers")
    endpoint = f"{server.base}/api/v1/signals/"
    headers = {**server.https, "Authorization": f"Token {token}", "Content-Type": "application/json"}
    posted: list[bytes] = []
    try:
        warm = [json.dumps(batch()).encode() for _ in range(10)]
        post_all(endpoint, headers, warm, clients=server.workers, expected=201)  # every worker has served one
        posted += warm
        for with_model in (False, True):
            if with_model:
                icp = ICP.objects.create(name="Bench ICP")
                ScoringModel.objects.create(name="Bench", version=1, icp=icp, status=ScoringModel.Status.ACTIVE)
            for clients in CONCURRENCY:
                bodies = [json.dumps(batch()).encode() for _ in range(per_run)]
                wall, latencies = post_all(endpoint, headers, bodies, clients=clients, expected=201)
                posted += bodies
                model = "an active model (rescoring queued)" if with_model else "no active model"
                line(f"new signals, {model}, concurrency {clients}", per_run, wall, latencies)
        wall, latencies = post_all(endpoint, headers, posted, clients=8, expected=200)
        line("the same batches again (idempotent re-post), concurrency 8", len(posted), wall, latencies)
    finally:
        server.stop()
    stored = Signal.objects.filter(source="bench").count()
    expected = len(posted) * BATCH
    assert stored == expected, f"{stored:,} signals stored, {expected:,} posted: some were lost or doubled"
    print(f"stored: {stored:,} signals, each once; {PendingRescore.objects.count():,} accounts queued for rescoring")

    for connections in CONCURRENCY:
        batches = [batch() for _ in range(per_run)]
        wall = insert_all(url, batches, connections=connections)
        print(
            f"baseline (plain INSERT per batch of {BATCH}, no validation), {connections} connection"
            f"{'s' if connections > 1 else ''}: {per_run * BATCH / wall:,.0f} signals/s"
        )


if __name__ == "__main__":
    main()
