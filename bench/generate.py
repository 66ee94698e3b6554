"""Benchmark: load synthetic scale data (SPEC: 1,000,000 accounts, 10,000,000 signals, 2,000,000 contacts).

Prints wall time and rows/s per table and in total, and the peak RSS of the loading process.
BENCH_SCALE=0.01 runs it at 1% of the size.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

from _common import ROOT, bench_database_url, fresh_database, scale


def main() -> None:
    s = scale()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=int(1_000_000 * s))
    parser.add_argument("--signals", type=int, default=int(10_000_000 * s))
    parser.add_argument("--contacts", type=int, default=int(2_000_000 * s))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    url = bench_database_url("revops_bench_generate")
    fresh_database(url)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    command = [
        "/usr/bin/time", "-f", "peak_rss_kb=%M",
        sys.executable, "manage.py", "generate_data",
        "--accounts", str(args.accounts), "--signals", str(args.signals), "--contacts", str(args.contacts),
        "--seed", str(args.seed),
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if done.returncode != 0:
        print(done.stdout, done.stderr, sep="\n")
        sys.exit(f"generate_data failed with exit code {done.returncode}")
    print("bench/generate: synthetic data load on PostgreSQL")
    for line in done.stdout.splitlines():
        if re.match(r"^(accounts|contacts|signals|total):", line):
            print(f"  {line}")
    rss = re.search(r"peak_rss_kb=(\d+)", done.stderr)
    print(f"  wall time (incl. start-up and ANALYZE): {wall:.1f} s")
    if rss:
        print(f"  peak RSS: {int(rss.group(1)) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
