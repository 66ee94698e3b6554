"""A real Celery worker on Redis (not eager) runs an import job end to end against the test database."""

import os
import subprocess
import sys
import time
import uuid

import pytest

from accounts.models import Account
from accounts.services import import_job_create
from accounts.tasks import import_csv_task
from config.celery_app import app
from core.models import Job

from ..conftest import require_postgres, require_redis
from ..workers import ROOT, database_url


@pytest.fixture
def worker(monkeypatch):
    """A worker process on its own queue, reading the test database; stopped at the end."""
    require_postgres()
    require_redis()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", queue, "-l", "info",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    yield queue
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output[-4000:])


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_import_job_runs_on_a_real_worker(worker, tmp_path):
    source = tmp_path / "accounts.csv"
    source.write_text("external_id,name,employee_count\nW1,Worker One,10\nW2,Worker Two,oops\n", encoding="utf-8")
    job = import_job_create(kind="accounts", source=source, filename="accounts.csv")
    result = import_csv_task.apply_async(args=[job.pk], queue=worker)
    assert result.id  # sent to Redis, not run here
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.25)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["summary"]["created"] == 1
    assert job.result["errors"] == [[3, "employee_count: 'oops' is not a whole number"]]
    assert Account.objects.get(external_id="W1").name == "Worker One"
