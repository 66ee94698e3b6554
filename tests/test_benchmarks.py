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
    assert re.search(r"baseline doing the rescore's work .*; 2 sessions side by side.*: best of two [\d.]+ s", out), out
    scored = re.search(
        r"full rescore: ([\d,]+) accounts in ([\d.]+) s .*; ratio to the fit-and-signal baseline's best [\d.]+x, "
        r"to the same-work baseline's [\d.]+x",
        out,
    )
    assert scored and scored.group(1) == "2,000", out
    # The same-work yardstick places accounts as the rescore does (a rounding apart at a threshold at most).
    agree = re.search(r"same-work baseline's tier = the rescore's for ([\d,]+) of ([\d,]+) accounts", out)
    assert agree and agree.group(2) == "2,000" and int(agree.group(1).replace(",", "")) >= 1990, out
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
            verdict = rf"target p95 <= {target} ms: (within|OVER); /healthz p95 \d+ ms"
            assert re.search(line + verdict + r"; CPU per page: server [\d.]+ ms, database [\d.]+ ms", out), out
    assert re.search(r"baseline \(hand-written SQL, one connection, p95\): the manager's Tier 1 page by score \d+ ms, "
                     r"its count \d+ ms; the admin's Tier 1 count \d+ ms", out), out  # fmt: skip
    assert re.search(r"the scores-first page: its ids \d+ ms, its capped count \d+ ms, its 50 accounts by id \d+ ms",
                     out), out  # fmt: skip
    assert re.search(r"the admin's territory and owner pick lists \(p95 in process\): [\d.]+ ms read as values, "
                     r"[\d.]+ ms with the owners shared for a minute; baseline: [\d.]+ ms through the form's choices "
                     r"and a user object per member", out), out  # fmt: skip
    assert re.search(r"the API's page of \d+ accounts written \(p95 CPU in process\): [\d.]+ ms by AccountSerializer's "
                     r"own loop; baseline: [\d.]+ ms through DRF's generic loop", out), out  # fmt: skip


@pytest.mark.postgres
@pytest.mark.worker
def test_the_ingest_benchmark_posts_over_http_with_a_worker_and_loses_nothing():
    require_redis()
    out = run_bench("ingest.py", "0.01")
    rate = r"[\d,]+ signals/s \(target >= 10,000: (within|UNDER); the older line >= 5,000: (within|UNDER)\)"
    for model in ("no model, no worker", "an active model and a worker rescoring"):
        for clients in (1, 8):
            assert re.search(rf"new signals, {model}, concurrency {clients}: 4,000 signals in 8 batches: [\d.]+ s, "
                             rf"{rate}, batch p50 \d+ ms, p95 \d+ ms; baseline [\d,]+ signals/s just before, [\d.]+x the product's",
                             out), out  # fmt: skip
    assert re.search(r"model published, every account scored by the worker \(2 processes\) in [\d.]+ s", out), out
    drained = re.findall(r"rescore queue during the load: max ([\d,]+), mean [\d,]+ accounts; [\d,]+ left at the end, "
                         r"empty [\d.]+ s later, worker idle [\d.]+ s later", out)  # fmt: skip
    assert len(drained) == 2, out
    assert "accounts scored by the active model: 1,000 of 1,000" in out, out
    assert re.search(r"the same batches again \(idempotent re-post\), concurrency 8: 21,000 signals", out), out
    assert "stored: 21,000 signals, each once; 0 accounts left on the rescore queue" in out, out


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
def test_the_assignment_benchmark_runs_at_a_small_size():
    out = run_bench("assign.py", "0.01")
    assert re.search(r"first run: 1,000 accounts, 1,000 moved, \d+ unassigned in [\d.]+ s \([\d,]+ accounts/s; "
                     r"target <= 20 s\); peak RSS \d+ MB \(target <= 300 MB; the same process before the run: \d+ MB\)",
                     out), out  # fmt: skip
    assert "second run (nothing to move: 0 moves)" in out, out
    assert re.search(r"preview prepared and stored: 1,000 moves of 1,000 accounts in [\d.]+ s; peak RSS \d+ MB", out), (
        out
    )
    assert re.search(r"preview page \(1,000 moves, 20 pages of 50; pages 1 to 20\): p95 \d+ ms; API p95 \d+ ms over "
                     r"\d+ reads each \(target p95 <= 150 ms, as the account list\); baseline: the last page's rows "
                     r"read by OFFSET \d+ ms", out), out  # fmt: skip
    assert re.search(r"full run over 3x the accounts: 3,000 accounts in [\d.]+ s \([\d.]+x the time of 1x: linear is "
                     r"3x\); peak RSS \d+ MB against \d+ MB at 1x \([\d.]+x; target <= 300 MB, flat\)", out), out  # fmt: skip
    assert re.search(r"baseline \(one SQL UPDATE by country over 3,000 accounts, no owners, no log\): [\d.]+ s", out), (
        out
    )


@pytest.mark.postgres
def test_the_generate_benchmark_prints_its_wall_time_beside_its_target_and_a_copy_baseline():
    out = run_bench("generate.py", "0.001")
    assert re.search(r"total: 13,000 rows in [\d.]+ s", out), out
    assert re.search(r"wall time \(incl. start-up and ANALYZE\): [\d.]+ s for 13,000 rows \(target <= \d+ s: the "
                     r"README's \d+ s for 13,000,000 rows, scaled to this size\); baseline: the database copying the "
                     r"same 13,000 rows into copies of the tables with their indexes [\d.]+ s \([\d.]+x\)", out), out  # fmt: skip
    assert re.search(r"peak RSS: \d+ MB \(target <= 300 MB\)", out), out


@pytest.mark.postgres
def test_the_crm_pull_benchmark_runs_at_a_small_size():
    """Companies pulled from the fake HubSpot (a process of its own) through the whole sync, memory flat."""
    out = run_bench("crm_pull.py", "0.01")
    assert "set-up: the fake HubSpot (a process of its own) holding 100, then 1,000 companies" in out, out
    for n in ("100", "1,000"):
        assert re.search(rf"baseline, raw client paging loop \({n}\): {n} companies in [\d.]+ s", out), out
        assert re.search(rf"baseline, the importer directly, all at once \({n}\): {n} companies in [\d.]+ s", out), out
        assert re.search(
            rf"pull through the sync \({n}\): {n} companies in [\d.]+ s \([\d,]+ records/s\), peak RSS", out
        )
    assert re.search(r"memory from 100 to 1,000 companies: peak RSS x[\d.]+ .*: PASS", out), out


@pytest.mark.postgres
def test_the_webhooks_benchmark_runs_at_a_small_size():
    out = run_bench("webhooks.py", "0.02")
    assert "webhooks: 200 events to a local receiver (its own process), 2 delivery workers" in out, out
    assert re.search(r"baseline \(a plain loop of requests.post .*\): 200 in [\d.]+ s = [\d,]+ events/s", out), out
    run_1 = re.search(r"run 1 \(receiver up\): 200 events delivered in [\d.]+ s = [\d,]+ events/s .*ratio to the "
                      r"baseline [\d.]+x\); 200 attempts", out)  # fmt: skip
    assert run_1, out
    assert "receiver: 200 requests, 200 unique idempotency keys; lost 0 (target 0); sent twice or more 0" in out, out
    run_2 = re.search(r"run 2 \(receiver killed at \d+ received, down 1 s, restarted\): 200 events delivered .*; "
                      r"(\d+) attempts \((\d+) failed and retried\)", out)  # fmt: skip
    assert run_2 and int(run_2.group(2)) > 0, out  # the stop was felt, and retried through
    assert re.search(r"receiver: (\d+) requests, 200 unique idempotency keys; lost 0 \(target 0\); sent twice or more "
                     r"\d+; bad signatures 0", out), out  # fmt: skip


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


def test_a_benchmark_child_reports_its_own_peak_memory_not_its_parents():
    """`ru_maxrss` carries a parent's high-water mark into its child across exec; the benchmarks read VmHWM."""
    held = bytearray(300 * 1024 * 1024)
    held[::4096] = b"\x01" * len(held[::4096])  # touched: resident in this process
    code = "import sys; sys.path.insert(0, 'bench'); from _common import peak_rss_mb; print(peak_rss_mb())"
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert float(child.stdout) < 150, child.stdout  # a bare interpreter, not the 300 MB this process holds
    del held
