"""Benchmark: a full rescore with a draft running in shadow against the same rescore without one.

1,000,000 accounts, 10,000,000 signals, 2,000,000 contacts (as bench/rescore.py), scored by an active version; then
full rescores a day apart, run in this process slice after slice (as `rescore --sync`): one without a shadow, one
with a draft in shadow (scored into ShadowScore beside the live scores), and one without again. The yardstick is the
mean of the two without. Target: the rescore with one shadow within 1.6x of it.

Prints the load time, the first fill, the shadow's first pass (every account once), each rescore's time and the ratio
against the 1.6x target. Needs PostgreSQL (DATABASE_URL); BENCH_SCALE scales the data (1 = full size).
"""

from __future__ import annotations

import datetime as dt
import os
import time

from _common import django_on_fresh_database, scale

TARGET = 1.6
REFERENCE = dt.date(2026, 6, 1)


def main() -> None:
    os.environ.pop("REDIS_URL", None)  # every job in this process: no broker, no worker
    django_on_fresh_database("revops_bench_shadow")
    import logging

    logging.getLogger("celery").setLevel(logging.WARNING)
    from django.db import connection
    from rescore import CRITERIA, EXCLUSIONS

    from accounts.generate import generate_data
    from accounts.models import Account
    from core.models import Job
    from segmentation.defaults import STANDARD_PERSONAS, STANDARD_SIGNAL_RULES
    from segmentation.models import ICP, AccountScore, ShadowScore
    from segmentation.services import (
        model_draft_create,
        model_publish,
        model_shadow_start,
        model_shadow_stop,
        rescore_job_run_here,
        rescore_job_start,
    )

    n = max(1000, int(1_000_000 * scale()))
    now = dt.datetime.combine(REFERENCE, dt.time.min, tzinfo=dt.UTC)
    begin = time.monotonic()
    generate_data(accounts=n, contacts=2 * n, signals=10 * n, seed=3, now=now)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"loaded {n:,} accounts, {2 * n:,} contacts, {10 * n:,} signals in {time.monotonic() - begin:.1f} s")

    icp = ICP.objects.create(name="Bench ICP", criteria=CRITERIA, exclusions=EXCLUSIONS)
    live = model_draft_create(
        user=None, icp=icp, name="Bench", signal_rules=STANDARD_SIGNAL_RULES, required_personas=STANDARD_PERSONAS
    )
    begin = time.monotonic()
    job = model_publish(model=live, user=None, as_of=now)  # no broker: the rescore runs here, on commit
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    print(f"first fill (publish): {AccountScore.objects.count():,} scores in {time.monotonic() - begin:.1f} s")

    def rescore(day: int) -> float:
        start = time.monotonic()
        job = rescore_job_start(model=live, as_of=now + dt.timedelta(days=day), title="bench", enqueue=False)
        job = rescore_job_run_here(job)
        assert job.status == Job.Status.SUCCEEDED, job.error
        return time.monotonic() - start

    without_1 = rescore(1)
    draft = model_draft_create(user=None, based_on=live, w_fit=0.4, w_signal=0.5, w_coverage=0.1)
    begin = time.monotonic()
    first = model_shadow_start(model=draft, user=None, as_of=now + dt.timedelta(days=1))
    first.refresh_from_db()
    assert first.status == Job.Status.SUCCEEDED, first.error
    shadowed = ShadowScore.objects.filter(model=draft).count()
    assert shadowed == Account.objects.count(), (shadowed, Account.objects.count())
    print(f"shadow's first pass: {shadowed:,} accounts in {time.monotonic() - begin:.1f} s")
    with_shadow = rescore(2)
    as_of = ShadowScore.objects.filter(model=draft, as_of=now + dt.timedelta(days=2)).count()
    model_shadow_stop(model=draft, user=None)
    without_2 = rescore(3)
    yardstick = (without_1 + without_2) / 2
    ratio = with_shadow / yardstick
    print(f"full rescore without a shadow: {without_1:.1f} s and {without_2:.1f} s (mean {yardstick:.1f} s)")
    print(f"full rescore with one shadow: {with_shadow:.1f} s ({as_of:,} shadow scores rewritten)")
    print(f"ratio {ratio:.2f}x; target <= {TARGET}x: {ratio <= TARGET}")


if __name__ == "__main__":
    main()
