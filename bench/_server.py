"""The production server for the benchmarks that measure over HTTP: gunicorn as the Procfile runs it (config.wsgi,
which defaults to the production settings; gunicorn.conf.py), on the benchmark's database and Redis, and clients that
measure what they wait for."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from _common import ROOT, bench_database_url, fresh_database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, headers: dict, data: bytes | None = None) -> tuple[int, float, int]:
    """(status, milliseconds, body length) of a GET, or of a POST of `data`."""
    request = urllib.request.Request(url, data=data, headers=headers)
    begin = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (the benchmark's own server)
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return status, (time.monotonic() - begin) * 1000, len(body)


def load(urls: list[str], headers: dict, *, clients: int, seconds: float) -> dict:
    """`clients` threads each asking for the next of `urls` (round robin from a random start) for `seconds`."""
    times: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def client(n: int) -> None:
        i = n * 7
        while time.monotonic() < until:
            status, took, _ = fetch(urls[i % len(urls)], headers)
            i += 1
            with lock:
                times.append(took)
                statuses[status] = statuses.get(status, 0) + 1

    counter = iter(range(clients))
    wall = in_threads(lambda: client(next(counter)), clients)
    times.sort()
    return {
        "n": len(times),
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, int(0.95 * len(times)))],
        "rps": len(times) / wall,
        "statuses": statuses,
    }


# collectstatic with the production storage (hashed names, gzip and Brotli copies) takes about 40 s on 2 cores: the
# benchmarks collect once into this directory, again only when a file under static/ is newer than the manifest.
STATIC_ROOT = ROOT / ".bench-static"


def static_collected() -> bool:
    manifest = STATIC_ROOT / "staticfiles.json"
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    return all(path.stat().st_mtime <= built for path in (ROOT / "static").rglob("*") if path.is_file())


def in_threads(work, count: int) -> float:
    """Run `work()` in `count` threads at once; the wall seconds until all have finished."""
    threads = [threading.Thread(target=work) for _ in range(count)]
    begin = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - begin


def _process_cpu_seconds(keep) -> float | None:
    """CPU seconds used so far by the processes that `keep(pid, name, stat fields)` selects, with what their reaped
    children used (a worker gunicorn replaced, a database backend that ended): /proc, Linux only (None elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        entries = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as stat:
                raw = stat.read()
        except OSError:
            continue  # ended meanwhile
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()  # fields[0] is the state (field 3 of proc(5))
        if keep(int(entry), name, fields):
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks


def django_for_production_server(name: str, *, redis_db: int = 4) -> str:
    """A fresh, migrated PostgreSQL database `name`, a Redis database of its own (`redis_db`, emptied first) and a
    random secret key, all in this process's environment for the server it starts; Django set up on them here.
    Returns the database URL."""
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url.startswith("redis://"):
        sys.exit("This benchmark runs the production server, which needs Redis: set REDIS_URL=redis://host:port/db.")
    redis_url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{redis_db}"))
    url = bench_database_url(name)
    fresh_database(url)
    os.environ.update(
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_SETTINGS_MODULE="config.settings.local",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    return url


class ProductionServer:
    """gunicorn with the production settings on a free port, started with the environment of this process (its
    DATABASE_URL, REDIS_URL and SECRET_KEY); `https` holds the header the reverse proxy adds."""

    https = {"X-Forwarded-Proto": "https"}  # the reverse proxy's word that the client spoke TLS

    def __init__(self) -> None:
        port = free_port()
        env = {
            **os.environ,
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_ROOT": str(STATIC_ROOT),
            "PORT": str(port),
            # Connections kept between requests, as the README's production section advises for a busy site (a new
            # PostgreSQL backend per request starts with cold caches); DB_CONN_MAX_AGE=0 measures the default.
            "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "60"),
            "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)  # wsgi.py defaults to production, as the Procfile runs it
        self.env = env
        if not static_collected():
            collect = ["collectstatic", "--no-input", "-v0", "--clear", "--settings=config.settings.production"]
            subprocess.run([sys.executable, "manage.py", *collect], cwd=ROOT, env=env, check=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "gunicorn.conf.py"],
            cwd=ROOT, env=env, start_new_session=True, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{port}"
        self.workers = int(env.get("WEB_CONCURRENCY") or os.cpu_count() * 2 + 1)
        self.conn_max_age = int(env["DB_CONN_MAX_AGE"])
        for _ in range(120):
            try:
                if fetch(f"{self.base}/healthz", self.https)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        sys.exit("gunicorn did not answer /healthz")

    def cpu_seconds(self) -> tuple[float, float] | None:
        """(CPU seconds used so far by gunicorn's processes, by the database server's): the second includes any other
        PostgreSQL work on this machine, the benchmark's own hand-written SQL among it. None without /proc."""
        session = self.process.pid  # gunicorn runs in a session of its own (start_new_session)
        server = _process_cpu_seconds(lambda pid, name, fields: int(fields[3]) == session)
        database = _process_cpu_seconds(lambda pid, name, fields: name.startswith("postgres"))
        return None if server is None or database is None else (server, database)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)


class ProductionWorker:
    """A Celery worker as the Procfile runs it (production settings, `CELERY_CONCURRENCY` processes, default 2), with
    the environment of `server` (the same database, Redis and secret key); `busy()` says whether it still holds or has
    tasks."""

    def __init__(self, server: ProductionServer) -> None:
        env = dict(server.env)  # the Celery app defaults to the production settings, as the Procfile runs it
        import redis

        self.broker = redis.Redis.from_url(os.environ["REDIS_URL"])
        self.queue = "celery"
        # Wake-ups sent while no worker ran go (the queues they name are drained anyway), and so do the keys that say
        # they wait (core/queues.py), so the next change wakes the worker at once.
        self.broker.delete(self.queue, *self.broker.scan_iter("revops:wake:*"))
        self.log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)  # noqa: SIM115
        self.concurrency = int(env.get("CELERY_CONCURRENCY") or 2)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "warning", "--concurrency",
             str(self.concurrency), "-n", f"bench-{secrets.token_hex(3)}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip

    def check(self) -> None:
        if self.process.poll() is not None:
            sys.exit(f"the Celery worker stopped (exit code {self.process.returncode}); its log: {self.log.name}")

    def busy(self) -> bool:
        """Tasks waiting on the broker, or taken and not yet acknowledged (the tasks acknowledge late)."""
        return bool(self.broker.llen(self.queue) or self.broker.hlen("unacked"))

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)
