"""Helpers shared by the benchmarks: a PostgreSQL database of their own, migrated, and a clear refusal otherwise."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM), in MB. Not `ru_maxrss`: Linux carries the parent's high-water
    mark into a child across exec, so a child started by a large parent (one that built the benchmark's world) would
    report the parent's peak as its own."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def bench_database_url(name: str) -> str:
    """DATABASE_URL with its database name replaced by `name` (its `revops_bench` prefix by BENCH_DATABASE_PREFIX when
    set); exits with a message when it is not PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmarks run on PostgreSQL: set DATABASE_URL=postgres://user@host:port/db (any database).")
    prefix = os.environ.get("BENCH_DATABASE_PREFIX")  # several checkouts on one server keep their databases apart
    if prefix and name.startswith("revops_bench"):
        name = prefix + name.removeprefix("revops_bench")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def fresh_database(url: str) -> None:
    """Drop and create the benchmark's database, then migrate it."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def scale() -> float:
    value = float(os.environ.get("BENCH_SCALE", "1"))
    if not 0 < value <= 1:
        sys.exit("BENCH_SCALE must be in (0, 1].")
    return value


def django_on_fresh_database(name: str) -> str:
    """A fresh, migrated PostgreSQL database `name` (see bench_database_url), and Django set up on it in this
    process. Returns its URL."""
    url = bench_database_url(name)
    fresh_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return url
