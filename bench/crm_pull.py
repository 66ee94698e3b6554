"""Benchmark: a pull of 100,000 companies from the fake HubSpot into the product, on PostgreSQL.

The fake HubSpot (integrations/crm/fake_hubspot.py: a real HTTP server) runs in a process of its own, holding the
companies; each measured step runs in a fresh child process, so its peak RSS (VmHWM) is its own. A pull goes
through the whole sync: the HubSpot adapter (hubspot-api-client, search pages of 100, asked again from the last
record at the search API's 10,000-result cap), the mapping, the importer (validation, matching, upsert), the CRM
links and the watermark, one transaction a page.

Printed, beside the target (100,000 companies pulled, memory flat in the number of records: the peak at 100,000 within
25% of the peak at 10,000), at 10,000 and 100,000 companies:
- baseline 1: the raw client paging loop (the adapter's pages, nothing written): time, records/s, peak RSS;
- baseline 2: the same companies handed to the importer directly, all at once (accounts.imports.import_records,
  the bulk account import), in a fresh database: time, records/s, peak RSS;
- the pull: time, records/s, peak RSS (and, with BENCH_TRACEMALLOC=1, the traced Python peak of the pull itself,
  which slows it down).
BENCH_SCALE=0.01 runs it at 1% of the size (100 and 1,000 companies).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import bench_database_url, fresh_database, peak_rss_mb, scale

ROOT = Path(__file__).resolve().parent.parent
FULL = 100_000
SMALL_SHARE = 10
MEMORY_GROWTH_TARGET = 1.25


SYLLABLES = [a + b for a in "bdfgklmnprstvz" for b in ("a", "e", "i", "o", "u", "ar", "en", "ix")]
SUFFIXES = ["Systems", "Labs", "Group", "Analytics", "Logistics", "Foods", "Health", "Capital", "Works", "Energy"]


def company(i: int) -> dict:
    """The i-th company: a made-up name and domain of its own (as real companies are: no two alike)."""
    n = len(SYLLABLES)
    word = (SYLLABLES[i % n] + SYLLABLES[(i // n) % n] + SYLLABLES[(i // n // n) % n]).capitalize()
    return {
        "name": f"{word} {SUFFIXES[i % len(SUFFIXES)]}",
        "domain": f"{word.lower()}{i}.example",
        "industry": ["Software", "Retail", "Manufacturing", "Healthcare"][i % 4],
        "numberofemployees": 10 + i % 5000,
        "annualrevenue": 100_000 * (1 + i % 900),
        "country": ["United States", "Germany", "France", "Japan"][i % 4],
        "city": "Springfield",
    }


def serve(n: int, ready) -> None:
    """The fake HubSpot with n companies, until killed."""
    sys.path.insert(0, str(ROOT))
    from integrations.crm.fake_hubspot import FakeHubSpot

    fake = FakeHubSpot()
    for i in range(n):
        fake.add("account", company(i))
    fake.start()
    ready.put(fake.settings())
    while True:
        time.sleep(3600)


def child(step: str, url: str, settings: dict) -> dict:
    """One measured step, in this (fresh) process; prints its figures as JSON."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "local-bench-only")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings as django_settings

    django_settings.INTEGRATIONS_DEV_KEY_ALLOWED = True
    from celery import current_app

    # The work a pull queues (routing, rescoring the accounts) is the workers' and goes on their queue, as in
    # production; it is not run inside the measured process.
    current_app.conf.task_always_eager = False
    current_app.loader.import_default_modules()  # once per process, not in the measure
    import tracemalloc

    from accounts.models import Account
    from integrations.crm.adapter import pages
    from integrations.crm.hubspot import hubspot_adapter

    begin = time.monotonic()
    traced = 0
    if step == "raw":
        adapter = hubspot_adapter(settings, lambda tokens: None)
        count = sum(len(page.records) for page in pages(adapter, "account", None))
    elif step == "import":
        from accounts.imports import import_records
        from integrations.crm import mapping as m

        adapter = hubspot_adapter(settings, lambda tokens: None)
        fields = m.guess("account", adapter.fields("account"), adapter.suggested["account"])
        records = [
            m.convert("account", r, {"fields": fields}, account_id=None, source="HubSpot")
            for page in pages(adapter, "account", None)
            for r in page.records
        ]
        begin = time.monotonic()  # the import alone
        report = import_records(kind="accounts", records=records)
        count = report.created + report.updated
    else:
        from integrations.crm.services import connection_save, sync_job_create, sync_job_run

        connection = connection_save(vendor="hubspot", name="Bench", values=settings)
        job = sync_job_create(connection=connection, push=False)
        if os.environ.get("BENCH_TRACEMALLOC"):
            tracemalloc.start()
        sync_job_run(job=job)
        if tracemalloc.is_tracing():
            traced = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        job.refresh_from_db()
        if job.status != "succeeded":
            raise SystemExit(f"the pull failed: {job.error}")
        count = job.result["pulled"]["account"]["created"]
        assert Account.objects.count() == count, "every company is an account"
    seconds = time.monotonic() - begin
    return {
        "count": count,
        "seconds": seconds,
        "rss_mb": peak_rss_mb(),
        "traced_mb": traced / 1024 / 1024,
    }


def run_child(step: str, url: str, settings: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, url, json.dumps(settings)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(f"{step} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def line(label: str, figures: dict) -> str:
    rate = figures["count"] / figures["seconds"] if figures["seconds"] else 0
    traced = f", traced Python peak {figures['traced_mb']:.1f} MB" if figures.get("traced_mb") else ""
    return (
        f"{label}: {figures['count']:,} companies in {figures['seconds']:.1f} s ({rate:,.0f} records/s), "
        f"peak RSS {figures['rss_mb']:.0f} MB{traced}"
    )


def empty(url: str) -> None:
    """The product's tables emptied between steps (the database is migrated once)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE accounts_account, integrations_crmconnection, integrations_crmlink, core_job CASCADE")


def measure(n: int) -> dict:
    ready = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(n, ready), daemon=True)
    server.start()
    try:
        settings = {**ready.get(timeout=600), "retry_after_max": 1}
        url = bench_database_url("bench_crm_pull")
        figures = {"raw": run_child("raw", url, settings)}
        empty(url)
        figures["import"] = run_child("import", url, settings)
        empty(url)
        figures["pull"] = run_child("pull", url, settings)
    finally:
        server.kill()
        server.join()
    return figures


def main() -> None:
    big = max(200, int(FULL * scale()))
    small = max(100, big // SMALL_SHARE)
    print(f"set-up: the fake HubSpot (a process of its own) holding {small:,}, then {big:,} companies; PostgreSQL")
    fresh_database(bench_database_url("bench_crm_pull"))
    results = {}
    for n in (small, big):
        figures = measure(n)
        results[n] = figures
        print(line(f"baseline, raw client paging loop ({n:,})", figures["raw"]))
        print(line(f"baseline, the importer directly, all at once ({n:,})", figures["import"]))
        print(line(f"pull through the sync ({n:,})", figures["pull"]))
        if figures["pull"]["count"] != n:
            sys.exit(f"FAIL: {figures['pull']['count']:,} of {n:,} companies pulled")
    growth = results[big]["pull"]["rss_mb"] / results[small]["pull"]["rss_mb"]
    traced = ""
    if results[small]["pull"]["traced_mb"]:
        traced = f", traced Python peak x{results[big]['pull']['traced_mb'] / results[small]['pull']['traced_mb']:.2f}"
    verdict = "PASS" if growth <= MEMORY_GROWTH_TARGET else "FAIL"
    print(
        f"memory from {small:,} to {big:,} companies: peak RSS x{growth:.2f}{traced} "
        f"(target: at most x{MEMORY_GROWTH_TARGET}): {verdict}"
    )
    direct = results[big]["import"]["rss_mb"] / results[small]["import"]["rss_mb"]
    print(f"importer directly, all at once: peak RSS x{direct:.2f} (it holds every record)")
    if verdict != "PASS":
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))))
    else:
        main()
