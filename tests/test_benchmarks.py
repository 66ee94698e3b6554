"""The rescore benchmark runs end to end at a small size (real workers on Redis, PostgreSQL) and reports."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import require, require_redis

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.worker
def test_the_rescore_benchmark_runs_at_a_small_size():
    url = os.environ.get("DATABASE_URL", "")
    require(url.startswith(("postgres://", "postgresql://")), "needs PostgreSQL: set DATABASE_URL=postgres://...")
    require_redis()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env["BENCH_SCALE"] = "0.002"
    run = subprocess.run(
        [sys.executable, "bench/rescore.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    out = run.stdout
    scored = re.search(r"full rescore: ([\d,]+) accounts in ([\d.]+) s", out)
    assert scored and scored.group(1) == "2,000", out
    assert re.search(r"baseline .*: 2,000 rows in [\d.]+ s; ratio [\d.]+x", out), out
    assert re.search(r"new signal -> updated score: p50 \d+ ms, p95 \d+ ms", out), out
    assert re.search(r"worker 1 peak RSS: \d+ MB", out), out


@pytest.mark.postgres
def test_the_sla_benchmark_runs_at_a_small_size():
    url = os.environ.get("DATABASE_URL", "")
    require(url.startswith(("postgres://", "postgresql://")), "needs PostgreSQL: set DATABASE_URL=postgres://...")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env["BENCH_SCALE"] = "0.01"
    run = subprocess.run(
        [sys.executable, "bench/sla.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    out = run.stdout
    assert "1,000 pending handoffs, 100 overdue" in out, out
    assert re.search(r"sweep: 100 breaches in [\d.]+ s", out), out
    assert "second sweep a minute later: 0 new breaches" in out, out
