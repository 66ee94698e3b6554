"""The benchmarks run end to end at a small size (on PostgreSQL; the rescore with real workers on Redis) and report."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import require, require_redis

ROOT = Path(__file__).resolve().parent.parent
# Each benchmark loads its own database and times itself: one at a time, beside the worker tests (conftest.py).
pytestmark = pytest.mark.xdist_group(name="processes")


def run_bench(script: str, scale: str, **extra_env: str) -> str:
    """Run bench/<script> at BENCH_SCALE=`scale` (and `extra_env`) on PostgreSQL and return what it printed."""
    url = os.environ.get("DATABASE_URL", "")
    require(url.startswith(("postgres://", "postgresql://")), "needs PostgreSQL: set DATABASE_URL=postgres://...")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env["BENCH_SCALE"] = scale
    env.update(extra_env)
    run = subprocess.run(
        [sys.executable, f"bench/{script}"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run.stdout


@pytest.mark.worker
def test_the_rescore_benchmark_runs_at_a_small_size():
    require_redis()
    out = run_bench("rescore.py", "0.002")
    assert re.search(r"baseline .*: 2,000 rows; runs [\d.]+, [\d.]+, [\d.]+ s; best [\d.]+ s", out), out
    scored = re.search(r"full rescore: ([\d,]+) accounts in ([\d.]+) s .*; ratio to the baseline's best [\d.]+x", out)
    assert scored and scored.group(1) == "2,000", out
    assert re.search(r"score indexes dropped and rebuilt at the end .*: [\d.]+ s; account list sorted by score during "
                     r"it: p95 (\d+ ms|n/a) over \d+ pages", out), out  # fmt: skip
    assert re.search(r"score indexes kept: [\d.]+ s \([\d.]+x\); account list sorted by score during it: p95 "
                     r"(\d+ ms|n/a) over \d+ pages", out), out  # fmt: skip
    assert re.search(r"new signal -> updated score: p50 \d+ ms, p95 \d+ ms", out), out
    assert re.search(r"worker 1 peak RSS: \d+ MB", out), out
    assert re.search(r"scoring statement over every account: without a per-contact cap [\d.]+ s, with a cap of 20 "
                     r"points per contact [\d.]+ s \([\d.]+x\)", out), out  # fmt: skip


@pytest.mark.postgres
def test_the_sla_benchmark_runs_at_a_small_size():
    out = run_bench("sla.py", "0.01")
    assert "1,000 pending handoffs, 100 overdue" in out, out
    assert re.search(r"sweep: 100 breaches in [\d.]+ s", out), out
    assert "second sweep a minute later: 0 new breaches" in out, out


@pytest.mark.postgres
def test_the_kpi_benchmark_runs_at_a_small_size():
    out = run_bench("kpis.py", "0.005")
    assert re.search(r"5,000 scored accounts, 5,000 deals \(3,500 closed\)", out), out
    for role in ("admin", "manager", "rep"):
        assert re.search(rf"dashboard \(every KPI's total, all time\) for the {role}: [\d.]+ s", out), out
        assert re.search(rf"dashboard \(every KPI's total, last 365 days\) for the {role}: [\d.]+ s", out), out
    assert re.search(r"every KPI split by every segment for the admin: \d+ splits in [\d.]+ s", out), out
    assert re.search(r"dashboard cards for the admin \(each fetched on its own .*\): slowest \w+ [\d.]+ s, median [\d.]+ s, "
                     r"\d+ of \d+ within 1 s", out), out  # fmt: skip
    assert re.search(r"win rate by industry: page [\d.]+ s, baseline .* [\d.]+ s; ratio [\d.]+x", out), out
    assert re.search(r"daily snapshot: [\d,]+ snapshots in [\d.]+ s", out), out


@pytest.mark.postgres
@pytest.mark.redis
def test_the_pages_benchmark_runs_under_gunicorn_at_a_small_size():
    require_redis()
    out = run_bench("pages.py", "0.003", BENCH_SECONDS="0.5")
    assert "gunicorn with the production settings" in out, out
    pages = {
        "account list, Tier 1 by score, admin": 150, "account list, Tier 1 by score, manager": 150,
        "account list, Tier 1 by score, rep": 150, "account page, manager": 150,
        "API account list, Tier 1 by score, admin": 150, "KPI dashboard, first paint, admin": 300,
        "home page, admin": 300, "home page, manager": 300, "home page, rep": 300, "tier lists, admin": 300,
        "tier lists, manager": 300, "tier lists, rep": 300, "territories list, admin": 300,
        "territories list, manager": 300,
    }  # fmt: skip
    for page, target in pages.items():
        for clients in (1, 8):
            line = rf"{page}, concurrency {clients}: p50 \d+ ms, p95 \d+ ms, [\d.]+ pages/s over [\d,]+ requests; "
            assert re.search(line + rf"target p95 <= {target} ms: (within|OVER); /healthz p95 \d+ ms", out), out
    assert re.search(r"baseline \(hand-written SQL, one connection, p95\): the manager's Tier 1 page by score \d+ ms, "
                     r"its count \d+ ms; the admin's Tier 1 count \d+ ms", out), out  # fmt: skip


@pytest.mark.postgres
@pytest.mark.redis
def test_the_ingest_benchmark_posts_over_http_and_loses_nothing():
    require_redis()
    out = run_bench("ingest.py", "0.01")
    for model in ("no active model", r"an active model \(rescoring queued\)"):
        for clients in (1, 8):
            assert re.search(rf"new signals, {model}, concurrency {clients}: 4,000 signals in 8 batches: [\d.]+ s, "
                             r"[\d,]+ signals/s \(target >= 5,000: (within|UNDER)\), p95 batch \d+ ms", out), out  # fmt: skip
    assert re.search(r"the same batches again \(idempotent re-post\), concurrency 8: 21,000 signals", out), out
    assert "stored: 21,000 signals, each once; 1,000 accounts queued for rescoring" in out, out
    assert re.search(r"baseline \(plain INSERT per batch of 500, no validation\), 8 connections: [\d,]+ signals/s", out)


def test_the_recalibration_benchmark_runs_at_a_small_size():
    """3,000 planted deals, no scale run; on PostgreSQL when DATABASE_URL is set, else SQLite."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    run = subprocess.run(
        [sys.executable, "bench/recalibrate.py", "--deals", "3000", "--big-deals", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = run.stdout
    assert run.returncode == 0, out[-2000:] + run.stderr[-3000:]
    assert re.search(r"planted 3,000 closed deals \(3\d\.\d% won\)", out), out
    assert "held-out deals: 900 " in out, out
    figures = {}
    for label in ("Bayes-optimal", "LogisticRegressionCV", "HistGradientBoosting", "product regression",
                  "points model as published", r"points model \(report points_auc\)"):  # fmt: skip
        found = re.search(rf"^  {label}.* (\d\.\d{{4}})$", out, re.MULTILINE)
        assert found, f"no figure for {label}:\n{out}"
        figures[label] = float(found.group(1))
    assert 0.72 <= figures["Bayes-optimal"] <= 0.80, out
    # The points model as published scores the held-out deals as the report says it does.
    assert figures["points model as published"] == pytest.approx(
        figures[r"points model \(report points_auc\)"], abs=1e-3
    )
    assert re.search(r"backtest of the draft \(backtest_compute\) +(\d\.\d{4}|n/a)", out), out
    assert re.search(r"target: points model within 0.02 of the regression: PASS", out), out
    # The regression's target (within 0.02 of Bayes-optimal) is the 10,000-deal run's; on 2,100 training deals its
    # few dozen candidate features cost a little more, so this size allows 0.03 (900 held-out deals: the AUC's
    # standard error alone is about 0.016).
    assert re.search(r"target: regression within 0.02 of Bayes-optimal: (PASS|FAIL)", out), out
    assert figures["Bayes-optimal"] - figures["product regression"] <= 0.03, out
    assert figures["LogisticRegressionCV"] - figures["product regression"] <= 0.03, out


@pytest.mark.postgres
def test_the_shadow_benchmark_runs_at_a_small_size():
    out = run_bench("shadow.py", "0.002")
    assert "loaded 2,000 accounts, 4,000 contacts, 20,000 signals" in out, out
    assert "shadow's first pass: 2,000 accounts in" in out, out
    assert re.search(r"full rescore without a shadow: [\d.]+ s and [\d.]+ s \(mean [\d.]+ s\)", out), out
    assert re.search(r"full rescore with one shadow: [\d.]+ s \([\d,]+ shadow scores rewritten\)", out), out
    assert re.search(r"ratio [\d.]+x; target <= 1.6x: (True|False)", out), out


def test_the_balance_benchmark_runs_at_a_small_size():
    """Pure numpy, no database: 2,000 accounts, 20 reps, 4 territories."""
    run = subprocess.run(
        [sys.executable, "bench/balance.py", "--accounts", "2000", "--reps", "20", "--territories", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = run.stdout
    assert run.returncode == 0, out[-2000:] + run.stderr[-3000:]
    assert re.search(
        r"input: 2,000 accounts \([\d,]+ Tier 1, [\d,]+ pinned\), 20 reps \(\d+ away\) in 4 territories", out
    )
    assert re.search(r"balance\(\), disruption 0, in its own process: [\d.]+ s, peak RSS \d+ MB .*; 1 independent "
                     r"parts, [\d,]+ integer variables; status (optimal|feasible)", out), out  # fmt: skip
    assert re.search(r"target: balance\(\) <= 60 s: PASS .*; peak memory <= 1 GB: PASS", out), out
    gini = {}
    for label in ("live owners", r"round robin \(baseline\)", "balancer, disruption 0", "balancer, disruption 1"):
        found = re.search(rf"^  {label} +max/min +[\d.]+ +Gini (\d\.\d{{4}})", out, re.MULTILINE)
        assert found, f"no spread for {label}:\n{out}"
        gini[label] = float(found.group(1))
    assert gini["balancer, disruption 0"] < gini[r"round robin \(baseline\)"], out
    assert "target: balancer's potential Gini below round robin's: PASS" in out, out
    moved = re.search(r"balancer at disruption 0 ([\d,]+), at disruption 1 ([\d,]+) \(status \w+\); forced: "
                      r"([\d,]+) \([\d,]+ of away reps, [\d,]+ over capacity\)", out)  # fmt: skip
    assert moved, out
    free, tight, forced = (int(v.replace(",", "")) for v in moved.groups())
    assert forced == tight < free, out
    assert "all targets met: PASS" in out, out


def test_the_rotation_benchmark_runs_at_a_small_size():
    """Pure Python, no database: 20,000 accounts through the routing's own weighted rotation, one rep away."""
    run = subprocess.run(
        [sys.executable, "bench/rotation.py", "--accounts", "20000", "--per-day", "200"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = run.stdout
    assert run.returncode == 0, out[-2000:] + run.stderr[-3000:]
    worst = re.search(r"^  weighted rotation +worst distance from the exact share after any account (\d+\.\d{4})", out,
                      re.MULTILINE)  # fmt: skip
    turns = re.search(r"^  rotation by turns \(baseline\) +worst distance .* (\d+\.\d{4});", out, re.MULTILINE)
    assert worst and turns, out
    assert float(worst.group(1)) < 1.0 < float(turns.group(1)), out
    assert "target: no catch-up burst on return: PASS" in out, out
    assert "all targets met: PASS" in out, out


@pytest.mark.postgres
def test_the_lookalike_benchmark_runs_at_a_small_size():
    """5,000 accounts against 100 won ones, in chunks of 1,000: the pipelined reading and writing run too."""
    url = os.environ.get("DATABASE_URL", "")
    require(url.startswith(("postgres://", "postgresql://")), "needs PostgreSQL: set DATABASE_URL=postgres://...")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env["BENCH_SCALE"] = "0.005"
    run = subprocess.run(
        [sys.executable, "bench/lookalike.py", "--chunk", "1000"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = run.stdout
    assert run.returncode == 0, out[-2000:] + run.stderr[-3000:]
    assert "set-up: 5,000 accounts, 100 won in the period, 50 won before it (held out), 150 lost" in out, out
    assert re.search(r"lookalike refresh, in its own process: 5,000 accounts against 100 won ones in [\d.]+ s, "
                     r"peak RSS \d+ MB", out), out  # fmt: skip
    assert re.search(r"baseline \(the same brute-force query in plain scikit-learn, k=6, .*: [\d.]+ s; the refresh "
                     r"takes [\d.]+x the baseline", out), out  # fmt: skip
    auc = re.search(r"AUC, 50 held-out wins against 150 losses: (\d\.\d+) \(planted ceiling (\d\.\d+)\)", out)
    assert auc, out
    assert 0.7 <= float(auc.group(1)) <= float(auc.group(2)) + 0.03, out  # 200 accounts: a noisy AUC
    assert re.search(r"mean gap 0\.0\d points", out), out  # the stored scores are the exact neighbours'
    assert re.search(r"target: refresh <= 120 s: PASS; peak memory <= 1 GB: PASS; AUC >= 0.8: (PASS|FAIL)", out), out


@pytest.mark.postgres
def test_the_topics_benchmark_runs_at_a_small_size():
    out = run_bench("topics.py", "0.01")
    assert "set-up: 2,000 accounts, 100,000 signals on 20 topics" in out, out
    assert re.search(r"baseline: plain GROUP BY account, topic over every signal: [\d,]+ groups in [\d.]+ s", out), out
    assert re.search(r"baseline: the same over the windows' signals only: [\d,]+ groups in [\d.]+ s", out), out
    assert re.search(r"refresh \(empty table\): [\d,]+ account topics, [\d,]+ surging, 40 accounts queued for "
                     r"rescoring, in [\d.]+ s; ratio to the windowed baseline [\d.]+x", out), out  # fmt: skip
    assert re.search(r"memory: this process's peak RSS \d+ MB .*; PostgreSQL temporary files [\d,]+ MB", out), out
    assert re.search(r"refresh a day later \(every row updated\): [\d,]+ account topics", out), out
    assert "planted surges found: 40 of 40" in out, out
    assert re.search(r"account list filtered by a surging topic \(admin\): 40 accounts", out), out
    assert "every planted surge found: PASS" in out, out


@pytest.mark.postgres
def test_the_duplicates_benchmark_runs_at_a_small_size():
    """10,000 accounts with 100 planted duplicates: the job finds most, far above the exact baselines."""
    out = run_bench("duplicates.py", "0.01")
    assert re.search(r"world: 10,000 accounts, 100 planted duplicates \(case \d+, legal form \d+, typo \d+, website "
                     r"variant \d+\)", out), out  # fmt: skip
    job = re.search(r"duplicates job: [\d.]+ s for 10,000 accounts; ([\d,]+) pairs compared \(all pairs would be "
                    r"49,995,000\); [\d,]+ candidate pairs\n  precision (\d\.\d+), recall (\d\.\d+)", out)  # fmt: skip
    assert job, out
    compared, precision, recall = int(job.group(1).replace(",", "")), float(job.group(2)), float(job.group(3))
    assert compared < 49_995_000 / 20, out  # blocks, never all pairs
    assert precision >= 0.8 and recall >= 0.9, out
    domain = re.search(r"baseline, exact normalised domain only: [\d.]+ s; [\d,]+ pairs; precision (\d\.\d+), "
                       r"recall (\d\.\d+)", out)  # fmt: skip
    assert domain and float(domain.group(1)) == 1.0 and float(domain.group(2)) < recall, out
    assert "target: duplicates job <= 300 s: PASS" in out and "recall above the exact baselines': PASS" in out, out


@pytest.mark.postgres
def test_the_chat_alerts_benchmark_runs_at_a_small_size():
    """1,000 events over 50 territories' Slack channels (a local stand-in): every event read, one message and one
    digest per channel, nothing left waiting."""
    out = run_bench("alerts.py", "0.01")
    assert "set-up: 50 territories with a Slack channel each, 200 accounts, 1,000 events (5 reps opted out" in out, out
    assert re.search(r"baseline: reading the 1,000 events in commit order: [\d.]+ s", out), out
    assert re.search(r"reading into alerts: 1,000 events -> [\d,]+ alerts in [\d.]+ s \([\d,]+ events/s", out), out
    assert re.search(r"first drain: 50 messages \(50 alerts, one per channel, at once\)", out), out
    assert re.search(r"after the cooldown: 50 digests \([\d,]+ alerts\)", out), out
    assert "alerts left waiting: 0; one message plus one digest per channel: PASS" in out, out
