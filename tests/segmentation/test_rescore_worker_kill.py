"""A real worker killed in the middle of a rescore slice: the job, resumed on another worker, completes with every
account scored once by the active version (PostgreSQL and Redis, not eager)."""

import signal
import uuid

import psycopg
import pytest

from accounts.models import Account
from config.celery_app import app
from core.models import Job
from segmentation import services
from segmentation.models import AccountScore, RescoreChunk, ScoringModel
from tests.factories import AccountFactory, ScoringModelFactory, SignalFactory

from ..conftest import require_postgres, require_redis
from ..workers import database_url, start_worker, wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_rescore_leaves_a_job_that_resumes_to_completion(settings, monkeypatch):
    require_postgres()
    require_redis()
    accounts = [AccountFactory(industry="software", employee_count=100 + n) for n in range(40)]
    for account in accounts[::3]:
        SignalFactory(account=account, kind="meeting")
    first = ScoringModelFactory()
    services.model_publish(model=first, user=None)  # scored here (eager): every account on v1
    assert AccountScore.objects.filter(model=first).count() == len(accounts)

    queue = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "task_default_queue", queue)
    settings.RESCORE_SLICES = 4
    ids = sorted(a.pk for a in accounts)
    # A row of the third slice is locked by another session: the worker blocks inside that slice's statement.
    blocker = psycopg.connect(database_url(), autocommit=False)
    second = ScoringModelFactory(icp=first.icp, w_fit=0.3, w_signal=0.6, w_coverage=0.1)
    job = services.model_publish(model=second, user=None)
    slices = list(RescoreChunk.objects.filter(job=job).order_by("number"))
    assert len(slices) == 4
    victim = next(i for i in ids if slices[2].lo <= i < (slices[2].hi or 10**18))
    blocker.execute("SELECT 1 FROM segmentation_accountscore WHERE account_id = %s FOR UPDATE", [victim])

    worker = start_worker(queue)
    try:
        wait_for(lambda: RescoreChunk.objects.filter(job=job, done_at__isnull=False).count() == 2)

        def blocked() -> bool:
            with psycopg.connect(database_url(), autocommit=True) as probe:
                return bool(
                    probe.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
                        [probe.info.dbname],
                    ).fetchone()[0]
                )

        wait_for(blocked)
        worker.send_signal(signal.SIGKILL)  # mid-slice: its transaction dies with it
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    blocker.rollback()
    blocker.close()

    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.done < job.total
    # Nothing of the killed slice was written: its accounts are all still on v1.
    third = [i for i in ids if slices[2].lo <= i < (slices[2].hi or 10**18)]
    assert set(AccountScore.objects.filter(account_id__in=third).values_list("model_id", flat=True)) == {first.pk}

    assert services.rescore_job_resume(job) == 2
    worker = start_worker(queue)
    try:
        wait_for(lambda: Job.objects.get(pk=job.pk).status in (Job.Status.SUCCEEDED, Job.Status.FAILED))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.done == job.total == len(accounts)
    assert ScoringModel.objects.get(status="active") == second
    assert AccountScore.objects.count() == Account.objects.count() == len(accounts)
    assert set(AccountScore.objects.values_list("model_id", flat=True)) == {second.pk}
