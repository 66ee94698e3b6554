"""Benchmark: signal ingestion through POST /api/v1/signals/ in batches of 500 (target: >= 5,000 signals/s).

Requests go through the whole Django stack (token auth, validation, importer, PostgreSQL) in-process;
each batch is new signals with external ids, then the same batches again (idempotent re-post).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time

from _common import ROOT, bench_database_url, fresh_database, scale

BATCH = 500


def main() -> None:
    url = bench_database_url("revops_bench_ingest")
    fresh_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from accounts.generate import generate_data
    from territories.services import user_create

    batches = max(4, int(200 * scale()))
    generate_data(accounts=10_000, signals=0, contacts=0, seed=7)
    from accounts.models import Account

    account_ids = list(Account.objects.values_list("id", flat=True))
    admin = user_create(username="ingest-admin", role="admin")
    token = Token.objects.create(user=admin).key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    now = dt.datetime.now(dt.UTC)

    def payload(b: int) -> str:
        return json.dumps(
            [
                {
                    "account": account_ids[(b * BATCH + i) % len(account_ids)],
                    "kind": "web_visit",
                    "topic": "pricing",
                    "occurred_at": (now - dt.timedelta(minutes=b * BATCH + i)).isoformat(),
                    "source": "bench",
                    "external_id": f"bench-{b}-{i}",
                }
                for i in range(BATCH)
            ]
        )

    bodies = [payload(b) for b in range(batches)]
    for label, expected in (("new", 201), ("re-post", 200)):
        latencies = []
        started = time.perf_counter()
        for body in bodies:
            t = time.perf_counter()
            response = client.post("/api/v1/signals/", body, content_type="application/json")
            latencies.append(time.perf_counter() - t)
            if response.status_code != expected:
                sys.exit(f"unexpected {response.status_code}: {response.content[:300]!r}")
        elapsed = time.perf_counter() - started
        total = batches * BATCH
        p95 = statistics.quantiles(latencies, n=20)[-1]
        print(
            f"  {label}: {total:,} signals in {batches} batches of {BATCH}: {elapsed:.1f} s, "
            f"{total / elapsed:,.0f} signals/s (target >= 5,000), p95 batch {p95 * 1000:.0f} ms"
        )


if __name__ == "__main__":
    print("bench/ingest: POST /api/v1/signals/ on PostgreSQL")
    main()
