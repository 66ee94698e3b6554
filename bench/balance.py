"""Benchmark: the territory balancer (territories/balancer.py) against live owners and the round-robin baseline.

Generated input, pure numpy (no database), seed 7: `--accounts` accounts (default 100,000 x BENCH_SCALE, at least
2,000) with lognormal spend potential (sigma 1.5) and about 5% Tier 1 (more likely among the big ones), over `--reps`
reps (default 500) in `--territories` territories (default 50) grouped in regions of 5 territories: each rep works
one territory, and one rep per region also covers the region's other territories (an overlay), which couples
the territories of a region. About 4% of reps are away, 1% of accounts are named accounts pinned to their owner,
capacities are 1.3x a rep's fair count and 1.5x its fair Tier 1 count, weights 1 (0.5 for a tenth of reps). Current
owners come from the product's round robin run over the accounts in a shuffled order, before the away dates.

Printed: time and peak memory of `balance()` at the default 60 s limit, measured in a child process of its own
(VmHWM), against <= 60 s and <= 1 GB; potential spread (max/min and Gini per unit of weight) for live, round
robin and the balancer, the balancer's target being a lower Gini than round robin; the accounts moved with the
"minimise disruption" slider at 0 and at 1, against the moves forced by away reps and by capacity (at 1 the
balancer should move only those). Exits 0: a missed target is a figure to read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import peak_rss_mb  # noqa: E402
from territories.balancer import (  # noqa: E402
    BalanceProblem,
    BalanceWeights,
    balance,
    greedy_round_robin,
    plan_metrics,
)

SECONDS_TARGET = 60.0
MEMORY_TARGET_MB = 1024.0
SEED = 7
REGION = 5


def scale() -> float:
    value = float(os.environ.get("BENCH_SCALE", "1"))
    if not 0 < value <= 1:
        sys.exit("BENCH_SCALE must be in (0, 1].")
    return value


def generate(accounts: int, reps: int, territories: int, seed: int = SEED) -> BalanceProblem:
    """The benchmark's input (see the module docstring)."""
    rng = np.random.default_rng(seed)
    home = np.arange(reps) % territories  # each rep's own territory
    region = np.arange(territories) // REGION
    overlay = [int(np.flatnonzero(region[home] == g)[0]) for g in range(region.max() + 1)]  # one per region
    eligible = [
        np.union1d(np.flatnonzero(home == t), [overlay[region[t]]]).astype(np.int64) for t in range(territories)
    ]
    potential = rng.lognormal(mean=11.0, sigma=1.5, size=accounts)
    rank = potential.argsort().argsort() / accounts
    tier1 = rng.random(accounts) < 0.10 * rank
    group = rng.integers(0, territories, size=accounts)
    weight = np.where(rng.random(reps) < 0.1, 0.5, 1.0)
    # A rep's fair share: its weight's share of its region's accounts (the overlay rep counts once per region).
    fair = np.zeros(reps)
    fair_tier1 = np.zeros(reps)
    for g in range(region.max() + 1):
        members = np.flatnonzero(region[home] == g)
        in_region = region[group] == g
        fair[members] = weight[members] / weight[members].sum() * in_region.sum()
        fair_tier1[members] = weight[members] / weight[members].sum() * (tier1 & in_region).sum()
    capacity = np.ceil(1.3 * fair) + 2
    tier1_capacity = np.ceil(1.5 * fair_tier1) + 1
    problem = BalanceProblem(
        rep_ids=np.arange(1, reps + 1), capacity=capacity, tier1_capacity=tier1_capacity,
        available=np.ones(reps, dtype=bool), weight=weight, account_ids=np.arange(1, accounts + 1),
        potential=potential, tier1=tier1, current_owner=np.full(accounts, -1), pinned_owner=np.full(accounts, -1),
        eligible=eligible, group=group,
    )  # fmt: skip
    # Live owners: the round robin over the accounts in the order they arrived, before anyone was away.
    arrival = rng.permutation(accounts)
    shuffled = BalanceProblem(**{**problem.__dict__, "potential": potential[arrival], "tier1": tier1[arrival],
                                 "group": group[arrival], "capacity": np.full(reps, np.inf),
                                 "tier1_capacity": np.full(reps, np.inf)})  # fmt: skip
    live = np.empty(accounts, dtype=np.int64)
    live[arrival] = greedy_round_robin(shuffled).owner
    problem.current_owner = live
    pinned = rng.random(accounts) < 0.01
    problem.pinned_owner = np.where(pinned, live, -1)
    problem.available = rng.random(reps) >= 0.04
    return problem


def forced_moves(problem: BalanceProblem) -> tuple[int, int]:
    """Moves no plan can avoid: accounts whose current owner is away, inactive or not eligible for their group; and,
    per rep who could keep theirs, what is over its capacity or Tier 1 capacity (the larger of the two)."""
    eligible = [set(e.tolist()) for e in problem.eligible]
    current, away = problem.current_owner, 0
    kept = np.zeros(len(problem.rep_ids))
    kept_tier1 = np.zeros(len(problem.rep_ids))
    pinned = problem.pinned_owner >= 0
    for i in np.flatnonzero(~pinned & (current >= 0)):
        r = int(current[i])
        if (not problem.available[r]) or r not in eligible[problem.group[i]]:
            away += 1
        else:
            kept[r] += 1
            kept_tier1[r] += problem.tier1[i]
    room = problem.capacity - np.bincount(problem.pinned_owner[pinned], minlength=len(kept))
    room_tier1 = problem.tier1_capacity - np.bincount(problem.pinned_owner[pinned & problem.tier1], minlength=len(kept))
    over = np.maximum(np.maximum(kept - room, 0), np.maximum(kept_tier1 - room_tier1, 0))
    return away, int(over.sum())


def measure(args: argparse.Namespace) -> None:
    """In a process of its own: generate, time balance() and print JSON with its figures and the peak RSS."""
    problem = generate(args.accounts, args.reps, args.territories)
    before = peak_rss_mb()
    started = time.monotonic()
    result = balance(problem, BalanceWeights(disruption=args.disruption))
    seconds = time.monotonic() - started
    peak = peak_rss_mb()
    metrics = plan_metrics(problem, result.owner)
    print(json.dumps({
        "seconds": seconds, "peak_mb": peak, "start_mb": before, "status": result.status, "message": result.message,
        "components": result.components, "variables": result.variables, "moved": metrics["accounts_moved"],
        "gini": metrics["potential_gini"], "max_min": metrics["potential_max_min"],
        "unassigned": metrics["unassigned"], "owner": result.owner.tolist() if args.owners else None,
    }))  # fmt: skip


def child(args: argparse.Namespace, disruption: float) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--measure",
        "--accounts",
        str(args.accounts),
        "--reps",
        str(args.reps),
        "--territories",
        str(args.territories),
        "--disruption",
        str(disruption),
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        sys.exit(f"balance() failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def spread(label: str, metrics: dict) -> str:
    return (
        f"  {label:<34} max/min {metrics['potential_max_min']:8.2f}   Gini {metrics['potential_gini']:.4f}   "
        f"count max/min {metrics['count_max_min']:5.2f}   Tier 1 max/min {metrics['tier1_max_min']:5.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=max(2000, int(100_000 * scale())))
    parser.add_argument("--reps", type=int, default=max(20, int(500 * scale() ** 0.5)))
    parser.add_argument("--territories", type=int, default=max(4, int(50 * scale() ** 0.5)))
    parser.add_argument("--disruption", type=float, default=0.0)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--owners", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args)
        return 0
    problem = generate(args.accounts, args.reps, args.territories)
    away = int((~problem.available).sum())
    print(f"input: {args.accounts:,} accounts ({int(problem.tier1.sum()):,} Tier 1, "
          f"{int((problem.pinned_owner >= 0).sum()):,} pinned), {args.reps:,} reps ({away} away) in "
          f"{args.territories} territories, regions of {REGION} with overlay reps")  # fmt: skip

    free = child(args, 0.0)
    print(f"balance(), disruption 0, in its own process: {free['seconds']:.1f} s, peak RSS {free['peak_mb']:.0f} MB "
          f"(the process held {free['start_mb']:.0f} MB before it); {free['components']} independent parts, "
          f"{free['variables']:,} integer variables; status {free['status']}: {free['message']}")  # fmt: skip
    seconds_ok = free["seconds"] <= SECONDS_TARGET
    memory_ok = free["peak_mb"] <= MEMORY_TARGET_MB
    print(f"target: balance() <= 60 s: {verdict(seconds_ok)} ({free['seconds']:.1f} s); "
          f"peak memory <= 1 GB: {verdict(memory_ok)} ({free['peak_mb']:.0f} MB)")  # fmt: skip

    started = time.monotonic()
    greedy = greedy_round_robin(problem)
    greedy_seconds = time.monotonic() - started
    result = balance(problem, BalanceWeights(disruption=0.0))
    tight = balance(problem, BalanceWeights(disruption=1.0))
    live_metrics = plan_metrics(problem, problem.current_owner)
    greedy_metrics = plan_metrics(problem, greedy.owner)
    balanced_metrics = plan_metrics(problem, result.owner)
    tight_metrics = plan_metrics(problem, tight.owner)
    print(f"round robin (baseline): {greedy_seconds:.1f} s; status {greedy.status}")
    print("potential per rep per unit of weight, available reps:")
    print(spread("live owners", live_metrics))
    print(spread("round robin (baseline)", greedy_metrics))
    print(spread("balancer, disruption 0", balanced_metrics))
    print(spread("balancer, disruption 1", tight_metrics))
    gini_ok = balanced_metrics["potential_gini"] < greedy_metrics["potential_gini"]
    print(f"target: balancer's potential Gini below round robin's: {verdict(gini_ok)} "
          f"({balanced_metrics['potential_gini']:.4f} vs {greedy_metrics['potential_gini']:.4f})")  # fmt: skip

    away, over = forced_moves(problem)
    forced = away + over
    print(f"accounts moved: round robin {greedy_metrics['accounts_moved']:,}; balancer at disruption 0 "
          f"{balanced_metrics['accounts_moved']:,}, at disruption 1 {tight_metrics['accounts_moved']:,} "
          f"(status {tight.status}); forced: {forced:,} ({away:,} of away reps, {over:,} over capacity)")  # fmt: skip
    moves_ok = tight_metrics["accounts_moved"] <= balanced_metrics["accounts_moved"]
    print(f"target: disruption 1 moves no more than disruption 0: {verdict(moves_ok)}; "
          f"moves beyond the forced ones at disruption 1: {tight_metrics['accounts_moved'] - forced:,}")  # fmt: skip
    ok = seconds_ok and memory_ok and gini_ok and moves_ok
    print(f"all targets met: {verdict(ok)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
