"""Benchmark: signal ingestion, POST /api/v1/signals/ in batches of 500, over HTTP under the production server, with an
active scoring model and a Celery worker rescoring beside it (target: >= 10,000 signals/s; the hardening issue's
older line was 5,000).

100,000 accounts; gunicorn as the Procfile runs it (production settings, gunicorn.conf.py's workers) on PostgreSQL and
Redis; clients with an API token post batches of new signals (external ids) at concurrency 1 and 8: first with no
active model and no worker (the batches queue their accounts for rescoring, nobody drains the queue), then with a
published model and a Celery worker as the Procfile runs it (`CELERY_CONCURRENCY`, default 2) draining the rescore
queue during the load; then every batch again (the idempotent re-post: nothing new is written). Every batch must
answer 201 (200 for the re-post) and every signal must be stored exactly once. During each load the rescore queue's
depth is sampled every 100 ms; after it, the time until the queue is empty and the worker idle is measured.

The baseline, measured right before each of the four loads, at its concurrency (the machine may be shared: only the
ratio means much there): the same kind of rows as plain INSERTs, one statement per batch of 500, over 1 or 8
connections, with no validation; each load's line ends with the baseline's rate and how many times the product's it
is.
BENCH_SCALE=0.01 runs it at 1% of the size. BENCH_REDIS_DB picks the Redis database it empties and uses (9).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import statistics
import sys
import threading
import time

from _common import scale
from _server import ProductionServer, ProductionWorker, django_for_production_server, fetch, in_threads

BATCH = 500
TARGET = 10_000
OLDER_TARGET = 5_000
CONCURRENCY = (1, 8)
CRITERIA = [
    {"group": "Industry", "attribute": "industry", "operator": "in", "value": ["software", "fintech"], "points": 40},
    {"group": "Size", "attribute": "employee_count", "operator": "between", "value": [200, 5000], "points": 40},
    {"group": "Geo", "attribute": "country", "operator": "in", "value": ["United States", "Canada"], "points": 20},
]


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


class QueueWatch:
    """The rescore queue's depth, sampled every 100 ms on a connection of its own while a load runs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.depths: list[int] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopped.wait(0.1):
                self.depths.append(conn.execute("SELECT count(*) FROM segmentation_pendingrescore").fetchone()[0])

    def __enter__(self) -> QueueWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()

    def words(self) -> str:
        if not self.depths:
            return "rescore queue not sampled"
        depths = self.depths
        return f"rescore queue during the load: max {max(depths):,}, mean {statistics.mean(depths):,.0f} accounts"


def queue_depth() -> int:
    from accounts.models import PendingRescore

    return PendingRescore.objects.count()


def wait_drained(worker: ProductionWorker, *, seconds: float = 600) -> tuple[float, float]:
    """(seconds until the rescore queue is empty, seconds until the worker is idle too), from now."""
    begin = time.monotonic()
    empty = None
    while time.monotonic() - begin < seconds:
        worker.check()
        if empty is None and queue_depth() == 0:
            empty = time.monotonic() - begin
        if empty is not None and not worker.busy() and queue_depth() == 0:
            return empty, time.monotonic() - begin
        time.sleep(0.05)
    sys.exit(f"the rescore queue did not drain within {seconds:.0f} s ({queue_depth():,} accounts left)")


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # the server and the worker are stopped too
    url = django_for_production_server("revops_ingest_bench", redis_db=int(os.environ.get("BENCH_REDIS_DB", "9")))
    from accounts.generate import generate_data
    from accounts.models import Account, PendingRescore, Signal
    from core.models import Job
    from core.tokens import token_create
    from segmentation.defaults import STANDARD_PERSONAS, STANDARD_SIGNAL_RULES
    from segmentation.models import ICP, AccountScore
    from segmentation.services import model_draft_create, model_publish
    from territories.services import user_create

    n_accounts = max(1000, int(100_000 * scale()))
    per_run = max(8, int(120 * scale()))  # batches per measure
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

    def baseline(connections: int) -> float:
        """The plain INSERTs' rate at this concurrency, measured right before the product's, on the same load."""
        return per_run * BATCH / insert_all(url, [batch() for _ in range(per_run)], connections=connections)

    def line(label: str, batches: int, wall: float, latencies: list[float], base: float | None = None) -> float:
        rate = batches * BATCH / wall
        p50 = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
        verdict = "within" if rate >= TARGET else "UNDER"
        older = "within" if rate >= OLDER_TARGET else "UNDER"
        print(
            f"{label}: {batches * BATCH:,} signals in {batches} batches: {wall:.1f} s, {rate:,.0f} signals/s "
            f"(target >= {TARGET:,}: {verdict}; the older line >= {OLDER_TARGET:,}: {older}), batch p50 {p50:.0f} ms, "
            f"p95 {p95:.0f} ms"
            + (f"; baseline {base:,.0f} signals/s just before, {base / rate:.2f}x the product's" if base else "")
        )
        return rate

    server = ProductionServer()
    worker: ProductionWorker | None = None
    print(f"{n_accounts:,} accounts; gunicorn with the production settings, {server.workers} workers")
    endpoint = f"{server.base}/api/v1/signals/"
    headers = {**server.https, "Authorization": f"Token {token}", "Content-Type": "application/json"}
    posted: list[bytes] = []
    try:
        warm = [json.dumps(batch()).encode() for _ in range(10)]
        post_all(endpoint, headers, warm, clients=server.workers, expected=201)  # every worker has served one
        posted += warm
        for clients in CONCURRENCY:
            bodies = [json.dumps(batch()).encode() for _ in range(per_run)]
            base = baseline(clients)
            wall, latencies = post_all(endpoint, headers, bodies, clients=clients, expected=201)
            posted += bodies
            line(f"new signals, no model, no worker, concurrency {clients}", per_run, wall, latencies, base)

        # Nothing queued before the worker starts: the full rescore below scores every account, and an incremental
        # rescore of the same accounts beside its slices would only contend with them.
        PendingRescore.objects.all().delete()
        worker = ProductionWorker(server)
        icp = ICP.objects.create(name="Bench ICP", criteria=CRITERIA)
        model = model_draft_create(
            user=None, icp=icp, name="Bench", signal_rules=STANDARD_SIGNAL_RULES, required_personas=STANDARD_PERSONAS
        )
        begin = time.monotonic()
        job = model_publish(model=model, user=None)
        while job.status not in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            worker.check()
            if time.monotonic() - begin > 900:
                sys.exit(f"the full rescore did not finish in 15 minutes ({job.done:,} of {job.total:,} accounts); the "
                         f"worker's log: {worker.log.name}")  # fmt: skip
            time.sleep(0.1)
            job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, job.error
        print(
            f"model published, every account scored by the worker ({worker.concurrency} processes) in "
            f"{time.monotonic() - begin:.1f} s"
        )
        for clients in CONCURRENCY:
            bodies = [json.dumps(batch()).encode() for _ in range(per_run)]
            base = baseline(clients)
            with QueueWatch(url) as watch:
                wall, latencies = post_all(endpoint, headers, bodies, clients=clients, expected=201)
                left = queue_depth()
                empty, idle = wait_drained(worker)
            posted += bodies
            label = f"new signals, an active model and a worker rescoring, concurrency {clients}"
            line(label, per_run, wall, latencies, base)
            print(f"  {watch.words()}; {left:,} left at the end, empty {empty:.1f} s later, worker idle {idle:.1f} s "
                  "later")  # fmt: skip
        scored = AccountScore.objects.filter(model=model).count()
        print(f"  accounts scored by the active model: {scored:,} of {n_accounts:,}")
        wall, latencies = post_all(endpoint, headers, posted, clients=8, expected=200)
        line("the same batches again (idempotent re-post), concurrency 8", len(posted), wall, latencies)
    finally:
        server.stop()
        if worker is not None:
            worker.stop()
    stored = Signal.objects.filter(source="bench").count()
    distinct = Signal.objects.filter(source="bench").values("external_id").distinct().count()
    expected = len(posted) * BATCH
    assert stored == distinct == expected, f"{stored:,} signals stored, {expected:,} posted: some were lost or doubled"
    left = PendingRescore.objects.count()
    print(f"stored: {stored:,} signals, each once; {left:,} accounts left on the rescore queue")


if __name__ == "__main__":
    main()
