"""Benchmark: weighted round-robin rotation over 100,000 accounts.

Twelve reps with weights 0.5 to 3 share a territory's new accounts, arriving 1,000 a day for 100 days; one rep is away
for days 40 to 54. Each account goes through the routing's own rotation (`pick_round_robin`, then `rotate`), as the
assignment and the routing of new accounts do. After every account, each rep's count is compared with its exact
share: the sum, over the accounts routed while the rep could take one, of its weight over the weights of the reps
who could. Target: every rep within one of its exact share after every account.

Baseline, on the same arrivals: the rotation by turns that ignores weights (each available rep in order).
Also printed: the returning rep's accounts in the first 1,000 after its return against its share of them (no
catch-up burst), and the time per account. Pure Python, no database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = [0.5, 1, 1, 1, 1.5, 1.5, 2, 2, 2.5, 3, 3, 1]
START = dt.date(2026, 1, 1)
AWAY = (40, 54)  # days (from START) the fifth rep is away, both included


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


def run(accounts: int, per_day: int, *, weighted: bool) -> dict:
    from territories.routing import Member, pick_round_robin, rotate

    members = [Member(user_id=i + 1, weight=float(w) if weighted else 1.0) for i, w in enumerate(WEIGHTS)]
    away = members[4]
    away.away_from, away.away_until = START + dt.timedelta(days=AWAY[0]), START + dt.timedelta(days=AWAY[1])
    weights = {m.user_id: float(w) for m, w in zip(members, WEIGHTS, strict=True)}
    counts = {m.user_id: 0 for m in members}
    share = {m.user_id: 0.0 for m in members}
    worst, last = 0.0, None
    back = START + dt.timedelta(days=AWAY[1] + 1)
    after_return = {"count": 0, "share": 0.0, "seen": 0}
    started = time.perf_counter()
    for n in range(accounts):
        today = START + dt.timedelta(days=n // per_day)
        here = [m for m in members if m.is_eligible(today)]
        total = sum(weights[m.user_id] for m in here)
        for m in here:
            share[m.user_id] += weights[m.user_id] / total
        if weighted:
            chosen = pick_round_robin(members, last, today)
            rotate(members, chosen.user_id, today)
        else:  # by turns: the first available rep after the one served last
            chosen = next((m for m in here if last is not None and m.user_id > last), here[0])
        last = chosen.user_id
        counts[chosen.user_id] += 1
        if today >= back and after_return["seen"] < 1000:
            after_return["seen"] += 1
            after_return["count"] += chosen.user_id == away.user_id
            after_return["share"] += weights[away.user_id] / total
        worst = max(worst, max(abs(counts[u] - share[u]) for u in counts))
    seconds = time.perf_counter() - started
    return {"worst": worst, "seconds": seconds, "after_return": after_return, "counts": counts, "share": share}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--per-day", type=int, default=1_000)
    args = parser.parse_args()
    setup()
    print(f"input: {args.accounts:,} accounts, {args.per_day:,} a day, {len(WEIGHTS)} reps weighted "
          f"{', '.join(f'{w:g}' for w in WEIGHTS)}; rep 5 away days {AWAY[0]}-{AWAY[1]}")  # fmt: skip
    weighted = run(args.accounts, args.per_day, weighted=True)
    turns = run(args.accounts, args.per_day, weighted=False)
    for label, result in (("weighted rotation", weighted), ("rotation by turns (baseline)", turns)):
        back = result["after_return"]
        print(f"  {label:<30} worst distance from the exact share after any account {result['worst']:.4f}; "
              f"rep 5 in the first {back['seen']:,} after its return: {back['count']:,} (share {back['share']:.1f}); "
              f"{1e6 * result['seconds'] / args.accounts:.1f} µs per account")  # fmt: skip
    ok = weighted["worst"] < 1.0
    burst = weighted["after_return"]
    no_burst = burst["count"] <= burst["share"] + 1
    print(f"target: every rep within one of its exact share: {'PASS' if ok else 'FAIL'} "
          f"(worst {weighted['worst']:.4f}; by turns {turns['worst']:.1f})")  # fmt: skip
    print(f"target: no catch-up burst on return: {'PASS' if no_burst else 'FAIL'} "
          f"({burst['count']:,} accounts against a share of {burst['share']:.1f})")  # fmt: skip
    print(f"all targets met: {'PASS' if ok and no_burst else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
