"""Benchmark: webhook delivery of 10,000 events to a local receiver, none lost and none delivered twice.

The receiver is a real HTTP server in its own process (bench/_webhook_receiver.py: checks every signature, writes
each request's idempotency key before it answers). The events are written to core's event log (the outbox) and
committed; then two delivery workers (processes running `integrations.webhooks.delivery.deliver`, as the Celery task
does: sequence, fan out, claim with SKIP LOCKED, POST from 8 threads each) deliver them. Printed, beside the targets:
- the baseline, measured in the same run: a plain loop of `requests.post` of the same signed bodies, one at a time;
- run 1, the receiver up throughout: events/s; requests received and unique keys (target: every key once);
- run 2, the receiver killed (SIGKILL, mid-request) once 30% have arrived and restarted a second later on the same
  port: events/s; none lost; the resends (at least once allows them; the receiver drops them by key), reported as
  raw requests beside unique keys.
Retries use a short backoff here (WEBHOOK_RETRY_BASE_SECONDS=0.2, at most 2 s) so the run does not wait minutes.
BENCH_SCALE=0.02 runs it with 200 events.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, django_on_fresh_database, scale

EVENTS = 10_000
WORKERS = 2
TARGET_EVENTS_PER_SECOND = 500
KILL_AT = 0.3
DOWN_SECONDS = 1.0
SETTINGS = {
    "WEBHOOKS_ALLOW_PRIVATE_URLS": "true",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "WEBHOOK_RETRY_FACTOR": "2",
    "WEBHOOK_RETRY_MAX_SECONDS": "2",
    "WEBHOOK_MAX_ATTEMPTS": "100",
    "WEBHOOK_TIMEOUT_SECONDS": "5",
    "WEBHOOK_CONCURRENCY": "8",
    "WEBHOOK_BATCH_SIZE": "200",
    "DEBUG": "false",
}
KINDS = ["tier.changed", "mqa.raised", "handoff.assigned", "owner.changed", "surge.started"]
OUT = Path(tempfile.gettempdir()) / f"bench-webhooks-{os.getpid()}"  # the receivers' logs


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReceiverProcess:
    def __init__(self, port: int, path: Path, secret: str):
        self.port, self.path, self.secret = port, path, secret
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_webhook_receiver.py"), str(self.port), str(self.path), self.secret],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def lines(self) -> list[tuple[str, str]]:
        if not self.path.exists():
            return []
        return [tuple(line.split()) for line in self.path.read_text().splitlines() if line.strip()]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/revops"


def worker() -> None:
    """One delivery worker: deliver until every event is fanned out and nothing is pending."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from core.models import Event
    from integrations.models import WebhookCursor, WebhookDelivery
    from integrations.webhooks.delivery import deliver

    go = Path(sys.argv[sys.argv.index("--worker") + 1])
    while not go.exists():  # started (Django set up) before the clock starts
        time.sleep(0.005)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        result = deliver(seconds=5)
        top = Event.objects.exclude(seq__isnull=True).order_by("-seq").values_list("seq", flat=True).first() or 0
        behind = (
            Event.objects.filter(seq__isnull=True).exists() or not WebhookCursor.objects.filter(seq__gte=top).exists()
        )
        if not behind and not WebhookDelivery.objects.filter(status="pending").exists():
            return
        if not result.attempts:
            time.sleep(0.05)  # what is left waits for its retry time
    sys.exit("a worker gave up after 10 minutes")


def start_workers(url: str, go: Path) -> list[subprocess.Popen]:
    """The delivery workers, each waiting for the `go` file before it starts."""
    env = {**os.environ, **SETTINGS, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    return [
        subprocess.Popen([sys.executable, str(ROOT / "bench" / "webhooks.py"), "--worker", str(go)], env=env, cwd=ROOT)
        for _ in range(WORKERS)
    ]


def write_events(count: int) -> list:
    """`count` committed events (the outbox rows the services write with their changes)."""
    from django.utils import timezone

    from core.models import Event

    now = timezone.now()
    return Event.objects.bulk_create(
        [Event(kind=KINDS[n % len(KINDS)], account_id=n + 1, data={"n": n}, occurred_at=now) for n in range(count)],
        batch_size=2000,
    )


def endpoint_for(receiver: ReceiverProcess, name: str):
    from integrations.models import WebhookEndpoint

    WebhookEndpoint.objects.update(active=False)  # the earlier runs' endpoints get none of this run's events
    return WebhookEndpoint.objects.create(name=name, url=receiver.url, kinds=KINDS, secret=receiver.secret)


def check(endpoint, receiver: ReceiverProcess, count: int) -> dict:
    from django.db.models import Sum

    from integrations.models import WebhookDelivery

    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    keys = {str(k) for k in deliveries.values_list("key", flat=True)}
    got = receiver.lines()
    received = [key for key, _ in got]
    return {
        "deliveries": len(keys),
        "delivered": deliveries.filter(status="delivered").count(),
        "raw": len(received),
        "unique": len(set(received)),
        "lost": len(keys - set(received)),
        "strangers": len(set(received) - keys),
        "bad": sum(1 for _, verdict in got if verdict != "ok"),
        "attempts": deliveries.aggregate(n=Sum("attempts"))["n"] or 0,
        "events": count,
    }


def run(url: str, count: int, *, name: str, stop_midway: bool) -> tuple[float, dict, str]:
    from integrations.models.webhooks import new_secret

    receiver = ReceiverProcess(free_port(), OUT / f"{name}.log", new_secret())
    receiver.start()
    endpoint = endpoint_for(receiver, name)
    go = OUT / f"{name}.go"
    workers = start_workers(url, go)
    write_events(count)
    time.sleep(3)  # the workers set Django up meanwhile
    go.touch()
    begin = time.monotonic()
    note = ""
    try:
        if stop_midway:
            while len(receiver.lines()) < count * KILL_AT:
                time.sleep(0.005)
            receiver.kill()
            at = len(receiver.lines())
            time.sleep(DOWN_SECONDS)
            receiver.start()
            note = f"receiver killed at {at:,} received, down {DOWN_SECONDS:g} s, restarted"
        for process in workers:
            if process.wait(timeout=900) != 0:
                sys.exit(f"a delivery worker failed in {name}")
        took = time.monotonic() - begin
    finally:
        receiver.kill()
    return took, check(endpoint, receiver, count), note


def baseline(events: list) -> float:
    """A plain loop of requests.post of the same signed bodies, one at a time, to a receiver of its own."""
    import requests

    from integrations.models import WebhookDelivery, WebhookEndpoint
    from integrations.models.webhooks import new_secret
    from integrations.webhooks.delivery import request_parts

    receiver = ReceiverProcess(free_port(), OUT / "baseline.log", new_secret())
    receiver.start()
    try:
        endpoint = WebhookEndpoint(name="baseline", url=receiver.url, secret=receiver.secret)
        prepared = [request_parts(WebhookDelivery(endpoint=endpoint, event=event)) for event in events]
        begin = time.monotonic()
        for body, headers in prepared:
            requests.post(receiver.url, data=body, headers=headers, timeout=5).raise_for_status()
        took = time.monotonic() - begin
        assert len(receiver.lines()) == len(prepared)
        return took
    finally:
        receiver.kill()


def report(label: str, took: float, figures: dict, base_rate: float) -> bool:
    rate = figures["events"] / took
    ok = figures["lost"] == 0 and figures["delivered"] == figures["deliveries"] == figures["events"]
    ok = ok and figures["bad"] == 0 and figures["strangers"] == 0
    print(
        f"{label}: {figures['events']:,} events delivered in {took:.2f} s = {rate:,.0f} events/s "
        f"(target >= {TARGET_EVENTS_PER_SECOND:,} events/s at full size; "
        f"ratio to the baseline {rate / base_rate:.1f}x); "
        f"{figures['attempts']:,} attempts ({figures['attempts'] - figures['events']:,} failed and retried)"
    )
    print(
        f"  receiver: {figures['raw']:,} requests, {figures['unique']:,} unique idempotency keys; "
        f"lost {figures['lost']:,} (target 0); sent twice or more {figures['raw'] - figures['unique']:,}; "
        f"bad signatures {figures['bad']:,} (target 0); delivered in the log {figures['delivered']:,} of "
        f"{figures['deliveries']:,}"
    )
    return ok


def main() -> None:
    if "--worker" in sys.argv:
        worker()
        return
    os.environ.update(SETTINGS)
    url = django_on_fresh_database("bench_webhooks")
    OUT.mkdir(parents=True, exist_ok=True)
    for old in [*OUT.glob("*.log"), *OUT.glob("*.go")]:
        old.unlink()
    count = max(int(EVENTS * scale()), 50)
    print(f"webhooks: {count:,} events to a local receiver (its own process), {WORKERS} delivery workers x "
          f"{SETTINGS['WEBHOOK_CONCURRENCY']} threads, batches of {SETTINGS['WEBHOOK_BATCH_SIZE']}")  # fmt: skip
    try:
        measure(url, count)
    finally:
        shutil.rmtree(OUT, ignore_errors=True)


def measure(url: str, count: int) -> None:
    from core.models import Event

    took_1, figures_1, _ = run(url, count, name="run1", stop_midway=False)
    base_took = baseline(list(Event.objects.order_by("seq")[:count]))
    base_rate = count / base_took
    print(f"baseline (a plain loop of requests.post of the same signed bodies, one at a time): {count:,} in "
          f"{base_took:.2f} s = {base_rate:,.0f} events/s")  # fmt: skip
    ok_1 = report("run 1 (receiver up)", took_1, figures_1, base_rate)
    if figures_1["raw"] != figures_1["unique"]:
        print("  FAILED: with the receiver up, no event may be delivered twice")
        ok_1 = False
    took_2, figures_2, note = run(url, count, name="run2", stop_midway=True)
    ok_2 = report(f"run 2 ({note})", took_2, figures_2, base_rate)
    if not (ok_1 and ok_2):
        sys.exit("FAILED: an event was lost, refused or not delivered")


if __name__ == "__main__":
    main()
