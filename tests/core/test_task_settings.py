"""Task settings that would run a task twice (a Redis visibility timeout within the task time limit) or heal a live
job are refused at start-up: by Django's checks and by a worker or beat starting."""

import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from core.checks import task_time_limits

from ..conftest import require_redis
from ..workers import ROOT


def test_the_defaults_pass(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert task_time_limits() == []
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT


def test_a_visibility_timeout_within_the_time_limit_is_refused(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    settings.CELERY_TASK_TIME_LIMIT = 3600
    (problem,) = task_time_limits()
    assert problem.id == "core.E001"
    assert "visibility timeout (3600 s) does not exceed the task time limit (3600 s)" in problem.msg
    with pytest.raises(SystemCheckError, match="core.E001"):
        call_command("check")


def test_a_job_healer_quicker_than_the_time_limit_is_refused(settings):
    settings.JOB_STUCK_MINUTES = 30
    settings.CELERY_TASK_TIME_LIMIT = 3600
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4200}
    assert [p.id for p in task_time_limits()] == ["core.E002"]


@pytest.mark.worker
@pytest.mark.parametrize("program", ["worker", "beat"])
def test_a_worker_or_beat_does_not_start_with_a_short_visibility_timeout(program, tmp_path):
    require_redis()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "CELERY_VISIBILITY_TIMEOUT": "600",
           "CELERY_TASK_TIME_LIMIT": "3600"}  # fmt: skip
    args = ["--pool", "solo"] if program == "worker" else ["--schedule", str(tmp_path / "schedule")]
    run = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", program, "-l", "warning", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert run.returncode != 0
    assert "visibility timeout (600 s) does not exceed the task time limit (3600 s)" in run.stdout + run.stderr
